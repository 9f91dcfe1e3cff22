// bench_ort.js — ONNX Runtime's side of tools/bench-compare, through
// onnxruntime-node (found on NODE_PATH). It only measures: it prints one
// JSON line and exits; statistics and tables are bench-compare's.
//
//   node bench_ort.js bench MODEL --batch B --size S [--threads T]
//        [--seconds X] [--warmup W] [--min-iters N]
//     -> {"create_ms", "first_run_ms", "latencies_ms": [...]}
//        (create_ms: InferenceSession.create; inputs uniform [0,1))
//   node bench_ort.js oneshot MODEL TENSOR.bin --size S [--threads T]
//     -> {"top1": class index}   (TENSOR.bin: float32 (1,3,S,S), C order)
//
// Instead of --size (a random or raw float32 (B,3,S,S) image batch), any
// model's inputs may come from NumPy files: --input NAME=FILE.npy, one per
// graph input (float32/64, int8-64, uint8, bool; C order; the benchmark
// zoo uses this). With --input, oneshot takes no TENSOR.bin and its top1 is
// the index of the largest element of the first output, flattened.
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const opts = { threads: 2, seconds: 2, warmup: 2, minIters: 5, batch: 1, size: 0, pos: [],
    inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--threads') opts.threads = parseInt(next(), 10);
    else if (a === '--seconds') opts.seconds = parseFloat(next());
    else if (a === '--warmup') opts.warmup = parseInt(next(), 10);
    else if (a === '--min-iters') opts.minIters = parseInt(next(), 10);
    else if (a === '--batch') opts.batch = parseInt(next(), 10);
    else if (a === '--size') opts.size = parseInt(next(), 10);
    else if (a === '--input') {
      const spec = next(), eq = spec.indexOf('=');
      if (eq <= 0) throw new Error(`--input ${spec}: expected NAME=FILE.npy`);
      opts.inputs.push([spec.slice(0, eq), spec.slice(eq + 1)]);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opts.pos.push(a);
  }
  if (!(opts.size > 0) && opts.inputs.length === 0) throw new Error('--size or --input is required');
  return opts;
}

// NumPy .npy (format 1.0-3.0, C order, little-endian) -> ort.Tensor.
const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '|i1': ['int8', Int8Array], '<i2': ['int16', Int16Array], '<i4': ['int32', Int32Array],
  '<i8': ['int64', BigInt64Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array],
};

function readNpy(ort, path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${path}: malformed .npy header ${header}`);
  if (fortran[1] === 'True') throw new Error(`${path}: Fortran order is not supported`);
  const type = NPY_TYPES[descr[1]];
  if (!type) throw new Error(`${path}: dtype ${descr[1]} is not supported`);
  const dims = shape[1].split(',').map((d) => d.trim()).filter((d) => d).map((d) => parseInt(d, 10));
  const n = dims.reduce((x, y) => x * y, 1);
  const bytes = n * type[1].BYTES_PER_ELEMENT;
  if (buf.length - start !== bytes)
    throw new Error(`${path}: ${buf.length - start} data bytes, shape [${dims}] needs ${bytes}`);
  const copy = new ArrayBuffer(bytes); // aligned for the typed array
  buf.copy(Buffer.from(copy), 0, start);
  const data = new type[1](copy);
  return new ort.Tensor(type[0], type[0] === 'bool' ? Uint8Array.from(data) : data, dims);
}

function npyFeeds(ort, session, inputs) {
  const feeds = {};
  for (const [name, file] of inputs) {
    if (!session.inputNames.includes(name))
      throw new Error(`the model has no input '${name}' (its inputs: ${session.inputNames.join(', ')})`);
    feeds[name] = readNpy(ort, file);
  }
  for (const name of session.inputNames)
    if (!(name in feeds)) throw new Error(`input '${name}' needs --input ${name}=FILE.npy`);
  return feeds;
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sessionOptions(threads) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

async function bench(ort, model, o) {
  const t0 = nowMs();
  const session = await ort.InferenceSession.create(model, sessionOptions(o.threads));
  const createMs = nowMs() - t0;
  let feeds = {};
  if (o.inputs.length) {
    feeds = npyFeeds(ort, session, o.inputs);
  } else {
    const n = o.batch * 3 * o.size * o.size;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.random();
    feeds[session.inputNames[0]] = new ort.Tensor('float32', data, [o.batch, 3, o.size, o.size]);
  }
  let t = nowMs();
  await session.run(feeds);
  const firstRunMs = nowMs() - t;
  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  const lat = [];
  const begin = nowMs();
  while (lat.length < o.minIters || nowMs() - begin < o.seconds * 1e3) {
    t = nowMs();
    await session.run(feeds);
    lat.push(nowMs() - t);
  }
  return { create_ms: createMs, first_run_ms: firstRunMs, latencies_ms: lat };
}

async function oneshot(ort, model, tensorPath, o) {
  const session = await ort.InferenceSession.create(model, sessionOptions(o.threads));
  if (o.inputs.length) {
    const out = await session.run(npyFeeds(ort, session, o.inputs));
    const y = out[session.outputNames[0]].data;
    let best = 0;
    for (let i = 1; i < y.length; i++) if (y[i] > y[best]) best = i;
    return { top1: best };
  }
  const buf = fs.readFileSync(tensorPath);
  const want = 3 * o.size * o.size * 4;
  if (buf.length !== want) throw new Error(`${tensorPath}: ${buf.length} bytes, want ${want}`);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, [1, 3, o.size, o.size]);
  const out = await session.run(feeds);
  const y = out[session.outputNames[0]].data;
  let best = 0;
  for (let i = 1; i < y.length; i++) if (y[i] > y[best]) best = i;
  return { top1: best };
}

async function main() {
  const [mode, ...rest] = process.argv.slice(2);
  const o = parseArgs(rest);
  const ort = require('onnxruntime-node');
  let result;
  if (mode === 'bench' && o.pos.length === 1) result = await bench(ort, o.pos[0], o);
  else if (mode === 'oneshot' && o.pos.length === 2 && !o.inputs.length)
    result = await oneshot(ort, o.pos[0], o.pos[1], o);
  else if (mode === 'oneshot' && o.pos.length === 1 && o.inputs.length)
    result = await oneshot(ort, o.pos[0], null, o);
  else
    throw new Error('usage: bench_ort.js bench MODEL (--batch B --size S | --input NAME=FILE.npy...) ... | '
      + 'oneshot MODEL (TENSOR.bin --size S | --input NAME=FILE.npy...)');
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench_ort.js: ${e.message}\n`);
  process.exit(1);
});
