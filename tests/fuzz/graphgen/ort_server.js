// ort_server.js — ONNX Runtime's side of the differential tests: one
// Node.js process (onnxruntime-node, found on NODE_PATH) serves many models.
// Each stdin line is a JSON request
//   {"dir": D, "inputs": [names in graph-input order], "n_in": N, "threads": T}
// reading D/model.onnx and D/in_<i>.npy; it writes D/ort_out_<k>.npy in the
// model's output order and answers one JSON line:
//   {"status": "ok", "n": K} | {"status": "refused", "msg": ...} (session
//   creation failed) | {"status": "run_error", "msg": ...}.
// It compares nothing; graph optimisations are off so that ONNX Runtime's
// own kernels, not its rewrites, are the oracle.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const ort = require('onnxruntime-node');
ort.env.logLevel = 'error';

// .npy descr <-> ONNX Runtime tensor type and typed array
const TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<f2': ['float16', Uint16Array], '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
  '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array], '<i4': ['int32', Int32Array],
  '<u4': ['uint32', Uint32Array], '<i8': ['int64', BigInt64Array],
  '<u8': ['uint64', BigUint64Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not .npy`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)[1];
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const t = TYPES[descr];
  if (!t) throw new Error(`${file}: dtype ${descr} not handled`);
  const off = hstart + hlen;
  const bytes = buf.subarray(off);
  const copy = new Uint8Array(bytes.length); // aligned copy
  copy.set(bytes);
  const data = new t[1](copy.buffer, 0, bytes.length / t[1].BYTES_PER_ELEMENT);
  return new ort.Tensor(t[0], data, dims);
}

function writeNpy(file, tensor) {
  let descr = null;
  for (const [k, v] of Object.entries(TYPES))
    if (v[0] === tensor.type) descr = k;
  if (!descr) throw new Error(`output type ${tensor.type} not handled`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function serve(req) {
  const dir = req.dir;
  let session;
  try {
    session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
      intraOpNumThreads: req.threads || 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'disabled',
      logSeverityLevel: 3,
    });
  } catch (e) {
    return { status: 'refused', msg: String(e.message || e).split('\n').join(' | ') };
  }
  try {
    const feeds = {};
    for (let i = 0; i < req.inputs.length; i++)
      feeds[req.inputs[i]] = readNpy(path.join(dir, `in_${i}.npy`));
    const out = await session.run(feeds);
    const names = session.outputNames;
    for (let k = 0; k < names.length; k++) writeNpy(path.join(dir, `ort_out_${k}.npy`), out[names[k]]);
    return { status: 'ok', n: names.length };
  } catch (e) {
    return { status: 'run_error', msg: String(e.message || e).split('\n').join(' | ') };
  } finally {
    if (session.release) await session.release();
  }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    if (line.trim() === 'quit') break;
    let res;
    try {
      res = await serve(JSON.parse(line));
    } catch (e) {
      res = { status: 'server_error', msg: String(e.message || e) };
    }
    process.stdout.write(JSON.stringify(res) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`ort_server.js: ${e.message}\n`);
  process.exit(1);
});
