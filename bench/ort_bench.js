#!/usr/bin/env node
// ONNX Runtime (CPU) peer of `edgegen bench`: one model, one thread count,
// one process.
//
//   node bench/ort_bench.js MODEL.onnx --threads 1 --runs 20 --warmup 3 [--min-time 1.0]
//        --input z=in.npy ... [--save-output DIR] [--by-path]
//
// --by-path: ONNX Runtime opens the model file itself (needed for weights in
// external data files beside it, e.g. a model past 2 GB) instead of being
// given its bytes.
//
// Prints one JSON object: session creation time (reading the file and
// InferenceSession.create, all graph optimizations on), warm-up, runs,
// median/min/max latency of session.run, the intra-op threads set, and the
// peak RSS (process.resourceUsage().maxRSS) with the RSS before loading.
// Outputs of the first run are written as DIR/<output name>.npy.
//
// --optimized-model FILE writes the graph ONNX Runtime actually runs (after its
// optimizations: which QDQ groups became QLinearConv / QGemm), and
// --eval DIR runs every sample DIR/<k>/<input name>.npy once and writes its
// outputs as <save-output>/<k>/output<i>.npy (quality checks, no timing).
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function usage(message) {
  process.stderr.write(`ort_bench: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {threads: 1, runs: 20, warmup: 3, minTime: 1.0, inputs: [], saveOutput: null, model: null,
    optimizedModel: null, evalDir: null, byPath: false};
  for (let i = 0; i < argv.length; ++i) {
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${argv[i]} needs a value`));
    switch (argv[i]) {
      case '--threads': args.threads = parseInt(value(), 10); break;
      case '--runs': args.runs = parseInt(value(), 10); break;
      case '--warmup': args.warmup = parseInt(value(), 10); break;
      case '--min-time': args.minTime = parseFloat(value()); break;
      case '--input': args.inputs.push(value()); break;
      case '--save-output': args.saveOutput = value(); break;
      case '--optimized-model': args.optimizedModel = value(); break;
      case '--eval': args.evalDir = value(); break;
      case '--by-path': args.byPath = true; break;
      default:
        if (argv[i].startsWith('--') || args.model) usage(`unexpected argument ${argv[i]}`);
        args.model = argv[i];
    }
  }
  if (!args.model) usage('no model given');
  return args;
}

// .npy (versions 1-3, little-endian, C order) <-> {dtype, shape, data}.
const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i4': ['int32', Int32Array], '<i8': ['int64', BigInt64Array],
};

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const type = NPY_TYPES[descr];
  if (!type) throw new Error(`${file}: unsupported dtype ${descr}`);
  const start = headerStart + headerLength;
  const copy = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length);
  return {dtype: type[0], shape, data: new type[1](copy)};
}

function writeNpy(file, tensor) {
  const descr = Object.keys(NPY_TYPES).find((key) => NPY_TYPES[key][0] === tensor.type);
  if (!descr) return;
  const dims = tensor.dims.length === 1 ? `${tensor.dims[0]},` : tensor.dims.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const baselineRss = process.resourceUsage().maxRSS * 1024;  // KiB

  const loadStart = now();
  const session = await ort.InferenceSession.create(args.byPath ? args.model : fs.readFileSync(args.model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(args.optimizedModel ? {optimizedModelFilePath: args.optimizedModel} : {}),
  });
  const loadMs = now() - loadStart;

  if (args.evalDir) {
    for (const sample of fs.readdirSync(args.evalDir).sort()) {
      const sampleFeeds = {};
      for (const name of session.inputNames) {
        const array = readNpy(path.join(args.evalDir, sample, `${name}.npy`));
        sampleFeeds[name] = new ort.Tensor(array.dtype, array.data, array.shape);
      }
      const result = await session.run(sampleFeeds);
      const dir = path.join(args.saveOutput, sample);
      fs.mkdirSync(dir, {recursive: true});
      session.outputNames.forEach((name, i) => writeNpy(path.join(dir, `output${i}.npy`), result[name]));
    }
    return;
  }

  const feeds = {};
  for (const spec of args.inputs) {
    const equals = spec.indexOf('=');
    const name = spec.slice(0, equals);
    const array = readNpy(spec.slice(equals + 1));
    feeds[name] = new ort.Tensor(array.dtype, array.data, array.shape);
  }

  const first = await session.run(feeds);
  if (args.saveOutput) {
    fs.mkdirSync(args.saveOutput, {recursive: true});
    session.outputNames.forEach((name, i) => writeNpy(path.join(args.saveOutput, `output${i}.npy`), first[name]));
  }
  for (let i = 1; i < Math.max(args.warmup, 1); ++i) await session.run(feeds);

  const times = [];
  let measured = 0;
  while (times.length < args.runs || measured < args.minTime * 1e3) {
    const start = now();
    await session.run(feeds);
    const elapsed = now() - start;
    measured += elapsed;
    times.push(elapsed);
  }

  process.stdout.write(JSON.stringify({
    engine: 'onnxruntime',
    version: ort.env.versions.node,
    model: args.model,
    threads: args.threads,
    load_ms: loadMs,
    warmup: Math.max(args.warmup, 1),
    runs: times.length,
    median_ms: median(times),
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    mean_ms: measured / times.length,
    baseline_rss_bytes: baselineRss,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`ort_bench: ${error.stack || error}\n`);
  process.exit(1);
});
