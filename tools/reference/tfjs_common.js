'use strict';
// Shared helpers for the TensorFlow.js reference runners (pure-JS CPU backend).
// Loads a TF.js layers model (model.json + shards) from disk without tfjs-node.
const fs = require('fs');
const path = require('path');
const tfc = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');

// One object shaped like the @tensorflow/tfjs union package, as UpscalerJS' setup(tf) expects.
const tf = Object.assign({}, tfc, tfl, { layers: tfl.layers, serialization: tfc.serialization });

function findPackageDir(modelJson) {
  let d = path.dirname(path.resolve(modelJson));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    const nd = path.dirname(d);
    if (nd === d) break;
    d = nd;
  }
  return null;
}

// Register the UpscalerJS custom layers (MultiplyBeta, PixelShuffle{r}x).  Preferably with the
// package's own compiled code (dist/cjs/packages/shared/src/esrgan/esrgan.js: setup(tf));
// otherwise with an identical re-implementation of that code.
function registerUpscalerLayers(modelJson, scale) {
  const pkg = findPackageDir(modelJson);
  const shared = pkg && path.join(pkg, 'dist/cjs/packages/shared/src/esrgan/esrgan.js');
  if (shared && fs.existsSync(shared)) {
    const def = require(shared).getESRGANModelDefinition({
      scale, name: 'x', version: '0', meta: { architecture: 'rrdn' },
    });
    def.setup(tf);
    return 'package:' + path.relative(pkg, shared);
  }
  const BETA = 0.2;
  class MultiplyBeta extends tfl.layers.Layer {
    constructor() { super({}); this.beta = BETA; }
    call(inputs) { return tfc.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.beta); }
    static get className() { return 'MultiplyBeta'; }
  }
  class PixelShuffle extends tfl.layers.Layer {
    constructor() { super({}); this.scale = scale; }
    computeOutputShape(s) { return [s[0], s[1], s[2], 3]; }
    call(inputs) { return tfc.depthToSpace(Array.isArray(inputs) ? inputs[0] : inputs, this.scale, 'NHWC'); }
    static get className() { return `PixelShuffle${scale}x`; }
  }
  tfc.serialization.registerClass(MultiplyBeta);
  tfc.serialization.registerClass(PixelShuffle);
  return 'builtin';
}

// Load model.json + shards into a LayersModel.  freeInput: make the input size dynamic
// (Keras applications declare a fixed 224x224 input).
async function loadModel(modelJson, { freeInput = true } = {}) {
  const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(path.resolve(modelJson));
  const topo = j.modelTopology;
  const cfg = topo.model_config || topo;
  if (freeInput) {
    for (const l of cfg.config.layers) {
      if (l.class_name === 'InputLayer' && l.config.batch_input_shape) {
        const s = l.config.batch_input_shape;
        l.config.batch_input_shape = [null, null, null, s[s.length - 1]];
      }
    }
  }
  const specs = [];
  const bufs = [];
  for (const g of j.weightsManifest) {
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    for (const w of g.weights) specs.push(w);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({ modelTopology: topo, weightSpecs: specs, weightData, format: j.format }),
  };
  return tfl.loadLayersModel(handler);
}

function readF32(file, n) {
  const b = fs.readFileSync(file);
  if (b.length !== n * 4) throw new Error(`${file}: ${b.length / 4} floats, expected ${n}`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function writeF32(file, data) {
  fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

module.exports = { tf, tfc, tfl, loadModel, registerUpscalerLayers, readF32, writeF32, findPackageDir };
