#!/usr/bin/env node
'use strict';
// Run an original UpscalerJS (esrgan-thick/-medium/-slim) TF.js model on raw floats.
//
// usage: node tools/reference/tfjs_upscale.js MODEL_JSON IN.f32 H W OUT.f32
//   IN.f32  : H*W*3 little-endian float32, HWC, RGB, already in the model's input range
//             (thick: [0,1]; medium/slim: [0,255] - see weights/README.md)
//   OUT.f32 : (s*H)*(s*W)*3 float32 HWC, the raw model output (not clipped)
// Prints {"shape":[sH,sW,3],"layers":"package:..."} on stdout.
// Needs `npm ci` in tools/ (@tensorflow/tfjs-core, -layers, -backend-cpu; pure JS).
const fs = require('fs');
const { tfc, loadModel, registerUpscalerLayers, readF32, writeF32 } = require('./tfjs_common');

async function main(argv) {
  if (argv.length !== 5) {
    process.stderr.write('usage: tfjs_upscale.js MODEL_JSON IN.f32 H W OUT.f32\n');
    return 2;
  }
  const [modelJson, inFile, hs, ws, outFile] = argv;
  const h = parseInt(hs, 10);
  const w = parseInt(ws, 10);
  const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const layers = (j.modelTopology.model_config || j.modelTopology).config.layers;
  const ps = layers.find((l) => /^PixelShuffle\d+x$/.test(l.class_name));
  let how = 'none';
  if (ps) how = registerUpscalerLayers(modelJson, parseInt(ps.class_name.match(/\d+/)[0], 10));
  await tfc.setBackend('cpu');
  const model = await loadModel(modelJson);
  const x = tfc.tensor4d(readF32(inFile, h * w * 3), [1, h, w, 3]);
  const y = model.predict(x);
  const data = await y.data();
  writeF32(outFile, data);
  process.stdout.write(JSON.stringify({ shape: y.shape.slice(1), layers: how }) + '\n');
  return 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => {
  process.stderr.write(`tfjs_upscale: error: ${e.message}\n`);
  process.exitCode = 1;
});
