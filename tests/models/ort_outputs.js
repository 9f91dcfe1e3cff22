// ort_outputs.js — runs a model's first output through ONNX Runtime
// (onnxruntime-node, found on NODE_PATH) for test scripts that compare it
// with ortc. Raw float32 in and out, so no file format is parsed here:
//
//   node ort_outputs.js MODEL IN.bin DIM,DIM,... OUT.bin
//     IN.bin: the float32 input (C order) of the given shape for the
//     model's only input; OUT.bin: the first output as float32 (C order).
//     Prints {"dims": [...]} (the output's shape) on stdout.
'use strict';

const fs = require('fs');

async function main() {
  const [model, inPath, dimSpec, outPath] = process.argv.slice(2);
  if (!outPath) throw new Error('usage: node ort_outputs.js MODEL IN.bin DIM,DIM,... OUT.bin');
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  if (session.inputNames.length !== 1) throw new Error(`${model}: expected one input`);
  const dims = dimSpec.split(',').map((d) => parseInt(d, 10));
  const buf = fs.readFileSync(inPath);
  const copy = new ArrayBuffer(buf.length);
  buf.copy(Buffer.from(copy));
  const x = new ort.Tensor('float32', new Float32Array(copy), dims);
  const out = await session.run({ [session.inputNames[0]]: x });
  const y = out[session.outputNames[0]];
  if (y.type !== 'float32') throw new Error(`${model}: output is ${y.type}, not float32`);
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  process.stdout.write(JSON.stringify({ dims: y.dims }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_outputs.js: ${e.message}\n`);
  process.exit(1);
});
