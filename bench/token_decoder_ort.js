#!/usr/bin/env node
// ONNX Runtime (CPU) runner of a `token_decoder` model (manifest.json with a
// step graph and optionally a prefill graph, a fixed KV cache fed back from
// the outputs to the inputs). Two modes, one process each:
//
//   node bench/token_decoder_ort.js generate MANIFEST --prompt-tokens a.npy -n 64 [--prefill]
//        [--logits-out steps.npy --logits-steps 8] [--prompt-logits-out prompt.npy] [--threads 1]
//     greedy decoding; prints {"tokens": [...]} and writes the logits of the
//     first generation steps (and, with --prefill, of every prompt position).
//     Without --prefill the prompt goes through the step graph one token at a
//     time; with it, in chunks of the prefill length, the last chunk padded
//     with token 0 (padding rows are written past the prompt, and the next
//     step overwrites each such row before any query can see it).
//
//   node bench/token_decoder_ort.js bench MANIFEST --threads 1 [--tokens 64] [--min-time 1]
//     prints one JSON object: load ms, decode tokens/s over a greedy generation
//     from position 0 (one step per token), median ms of one step at position
//     10 and at max_length - 10, prefill tokens/s, peak RSS.
//
// onnxruntime-node comes from bench/node_modules (bench/run.sh installs it).
'use strict';

const fs = require('fs');
const path = require('path');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (error) {
    return require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  }
}
const ort = loadOrt();

function usage(message) {
  process.stderr.write(`token_decoder_ort: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {mode: argv[0], manifest: argv[1], threads: 1, n: 64, prefill: false, promptTokens: null,
    logitsOut: null, logitsSteps: 8, promptLogitsOut: null, tokens: 64, minTime: 1.0};
  if (!['generate', 'bench'].includes(args.mode) || !args.manifest) usage('usage: generate|bench MANIFEST [options]');
  for (let i = 2; i < argv.length; ++i) {
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${argv[i]} needs a value`));
    switch (argv[i]) {
      case '--threads': args.threads = parseInt(value(), 10); break;
      case '-n': args.n = parseInt(value(), 10); break;
      case '--prefill': args.prefill = true; break;
      case '--prompt-tokens': args.promptTokens = value(); break;
      case '--logits-out': args.logitsOut = value(); break;
      case '--logits-steps': args.logitsSteps = parseInt(value(), 10); break;
      case '--prompt-logits-out': args.promptLogitsOut = value(); break;
      case '--tokens': args.tokens = parseInt(value(), 10); break;
      case '--min-time': args.minTime = parseFloat(value()); break;
      default: usage(`unexpected argument ${argv[i]}`);
    }
  }
  return args;
}

// .npy, little-endian, C order: int64 and float32 are all we need.
function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const copy = bytes.buffer.slice(bytes.byteOffset + headerStart + headerLength, bytes.byteOffset + bytes.length);
  if (descr === '<i8') return Array.from(new BigInt64Array(copy), Number);
  if (descr === '<f4') return Array.from(new Float32Array(copy));
  throw new Error(`${file}: unsupported dtype ${descr}`);
}

function writeNpyFloat32(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const array = Float32Array.from(data);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(array.buffer)]));
}

const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

class Decoder {
  static async create(manifestPath, threads, withPrefill) {
    const decoder = new Decoder();
    decoder.manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const dir = path.dirname(manifestPath);
    const options = {executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all'};
    const start = now();
    decoder.step = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, decoder.manifest.graphs.step)),
      options);
    decoder.prefill = null;
    if (withPrefill && decoder.manifest.graphs.prefill) {
      decoder.prefill = await ort.InferenceSession.create(
        fs.readFileSync(path.join(dir, decoder.manifest.graphs.prefill)), options);
    }
    decoder.loadMs = now() - start;
    const inputs = decoder.manifest.inputs;
    decoder.cacheInputs = inputs.cache.flat();
    decoder.cacheOutputs = decoder.manifest.outputs.cache.flat();
    const meta = decoder.step.inputMetadata.find((m) => m.name === decoder.cacheInputs[0]);
    decoder.cacheShape = meta.shape.map(Number);
    decoder.prefillLength = decoder.prefill
      ? Number(decoder.prefill.inputMetadata.find((m) => m.name === inputs.tokens).shape[1]) : 0;
    decoder.reset();
    return decoder;
  }

  reset() {
    const size = this.cacheShape.reduce((a, b) => a * b, 1);
    this.cache = this.cacheInputs.map(() => new ort.Tensor('float32', new Float32Array(size), this.cacheShape));
  }

  // Runs tokens (one for the step graph, prefillLength for prefill) written
  // from row `position`; returns the logits tensor and keeps the new cache.
  async run(session, tokens, position) {
    const inputs = this.manifest.inputs;
    const feeds = {
      [inputs.tokens]: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
      [inputs.position]: new ort.Tensor('int64', BigInt64Array.from([BigInt(position)]), [1]),
    };
    this.cacheInputs.forEach((name, i) => { feeds[name] = this.cache[i]; });
    const result = await session.run(feeds);
    this.cache = this.cacheOutputs.map((name) => result[name]);
    return result[this.manifest.outputs.logits];
  }

  // Feeds the prompt; returns the logits of its last position (and of every
  // position in `promptLogits`, if given).
  async feedPrompt(prompt, usePrefill, promptLogits) {
    const vocab = this.manifest.vocab_size;
    let last = null;
    let position = 0;
    if (usePrefill && this.prefill) {
      for (; position < prompt.length; position += this.prefillLength) {
        const chunk = prompt.slice(position, position + this.prefillLength);
        const real = chunk.length;
        while (chunk.length < this.prefillLength) chunk.push(0);
        const logits = await this.run(this.prefill, chunk, position);
        for (let t = 0; t < real; ++t) {
          const row = logits.data.slice(t * vocab, (t + 1) * vocab);
          if (promptLogits) promptLogits.push(...row);
          last = row;
        }
      }
      return last;
    }
    for (; position < prompt.length; ++position) {
      const logits = await this.run(this.step, [prompt[position]], position);
      last = logits.data.slice(0, vocab);
      if (promptLogits) promptLogits.push(...last);
    }
    return last;
  }
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; ++i) if (values[i] > values[best]) best = i;
  return best;
}

async function generate(args) {
  const decoder = await Decoder.create(args.manifest, args.threads, args.prefill);
  if (args.prefill && !decoder.prefill) usage('the manifest has no prefill graph');
  const prompt = readNpy(args.promptTokens);
  const vocab = decoder.manifest.vocab_size;
  const promptLogits = args.promptLogitsOut ? [] : null;
  let logits = await decoder.feedPrompt(prompt, args.prefill, promptLogits);
  const tokens = [];
  const stepLogits = [];
  for (let i = 0; i < args.n; ++i) {
    if (i < args.logitsSteps) stepLogits.push(...logits);
    const token = argmax(logits);
    tokens.push(token);
    if (i + 1 < args.n) logits = (await decoder.run(decoder.step, [token], prompt.length + i)).data.slice(0, vocab);
  }
  if (args.logitsOut) writeNpyFloat32(args.logitsOut, stepLogits, [stepLogits.length / vocab, vocab]);
  if (promptLogits) writeNpyFloat32(args.promptLogitsOut, promptLogits, [prompt.length, vocab]);
  process.stdout.write(JSON.stringify({tokens}) + '\n');
}

async function timeSteps(decoder, position, minTime) {
  const times = [];
  let measured = 0;
  for (let i = 0; i < 3; ++i) await decoder.run(decoder.step, [65], position);  // warm-up
  while (times.length < 20 || measured < minTime * 1e3) {
    const start = now();
    await decoder.run(decoder.step, [65], position);
    const elapsed = now() - start;
    times.push(elapsed);
    measured += elapsed;
  }
  return median(times);
}

async function bench(args) {
  const baselineRss = process.resourceUsage().maxRSS * 1024;
  const decoder = await Decoder.create(args.manifest, args.threads, true);
  const bos = decoder.manifest.bos;
  const maxLength = decoder.cacheShape[2];

  // Decode: BOS, then greedy tokens, one step each, positions 0..tokens-1.
  // Repeated until min-time; tokens/s of the median run.
  const runs = [];
  let measured = 0;
  for (let warm = 0; runs.length < 3 || measured < args.minTime * 1e3; ++warm) {
    decoder.reset();
    let token = bos;
    const start = now();
    for (let position = 0; position < args.tokens; ++position) {
      const logits = await decoder.run(decoder.step, [token], position);
      token = argmax(logits.data.slice(0, decoder.manifest.vocab_size));
    }
    const elapsed = now() - start;
    if (warm > 0) {
      runs.push(elapsed);
      measured += elapsed;
    }
  }
  const decodeMs = median(runs);

  const stepAt10 = await timeSteps(decoder, 10, args.minTime / 2);
  const stepAtEnd = await timeSteps(decoder, maxLength - 10, args.minTime / 2);

  let prefill = null;
  if (decoder.prefill) {
    const chunk = Array.from({length: decoder.prefillLength}, (_, i) => 65 + (i % 26));
    const times = [];
    let total = 0;
    for (let i = 0; i < 3; ++i) await decoder.run(decoder.prefill, chunk, 0);
    while (times.length < 10 || total < args.minTime * 1e3) {
      const start = now();
      await decoder.run(decoder.prefill, chunk, 0);
      const elapsed = now() - start;
      times.push(elapsed);
      total += elapsed;
    }
    prefill = {length: decoder.prefillLength, median_ms: median(times),
      tokens_per_s: decoder.prefillLength / (median(times) / 1e3)};
  }

  process.stdout.write(JSON.stringify({
    engine: 'onnxruntime',
    version: ort.env.versions.node,
    threads: args.threads,
    load_ms: decoder.loadMs,
    decode_tokens: args.tokens,
    decode_runs: runs.length,
    decode_tokens_per_s: args.tokens / (decodeMs / 1e3),
    step_ms_at_10: stepAt10,
    step_ms_at_end: stepAtEnd,
    end_position: maxLength - 10,
    prefill,
    baseline_rss_bytes: baselineRss,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }) + '\n');
}

const args = parseArgs(process.argv.slice(2));
(args.mode === 'generate' ? generate(args) : bench(args)).catch((error) => {
  process.stderr.write(`token_decoder_ort: ${error.stack || error}\n`);
  process.exit(1);
});
