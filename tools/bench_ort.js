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
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const opts = { threads: 2, seconds: 2, warmup: 2, minIters: 5, batch: 1, size: 0, pos: [] };
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
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opts.pos.push(a);
  }
  if (!(opts.size > 0)) throw new Error('--size is required');
  return opts;
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
  const n = o.batch * 3 * o.size * o.size;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.random();
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, [o.batch, 3, o.size, o.size]);
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
  else if (mode === 'oneshot' && o.pos.length === 2) result = await oneshot(ort, o.pos[0], o.pos[1], o);
  else throw new Error('usage: bench_ort.js bench MODEL --batch B --size S ... | oneshot MODEL TENSOR.bin --size S');
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench_ort.js: ${e.message}\n`);
  process.exit(1);
});
