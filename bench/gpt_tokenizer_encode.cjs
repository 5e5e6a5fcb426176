// Baseline for bench_tokenizer_encode: times the npm package gpt-tokenizer
// (r50k_base = GPT-2) encoding a UTF-8 text file, single thread, and prints
// one JSON line: {"mb_per_s_cold", "mb_per_s_warm", "tokens", "ids_hash"}.
// Cold: the first encode of the process (empty merge cache, JIT not warm);
// warm: best of three further encodes. ids_hash lets the caller check that
// both tokenizers produced the same ids.
//   node bench/gpt_tokenizer_encode.cjs TEXT_FILE
// gpt-tokenizer is looked up in $GPT_TOKENIZER_DIR, /tmp/gpttok, then the
// usual node_modules folders (npm install gpt-tokenizer in any of them).
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function loadGptTokenizer() {
  const dirs = [process.env.GPT_TOKENIZER_DIR, '/tmp/gpttok', __dirname].filter(Boolean);
  for (const dir of dirs) {
    try {
      return createRequire(path.join(dir, 'node_modules', 'noop.js'))('gpt-tokenizer/encoding/r50k_base');
    } catch {}
  }
  return require('gpt-tokenizer/encoding/r50k_base');
}

const file = process.argv[2];
const buffer = fs.readFileSync(file);
const text = buffer.toString('utf8');
const megabytes = buffer.length / 1e6;
const { encode } = loadGptTokenizer();
const options = { disallowedSpecial: new Set() };

function timed() {
  const start = process.hrtime.bigint();
  const ids = encode(text, options);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ids, seconds };
}

const cold = timed();
let best = Infinity;
for (let i = 0; i < 3; i++) best = Math.min(best, timed().seconds);
// FNV-1a over the ids as 32-bit little-endian words (same in the C++ bench).
let hash = 0x811c9dc5;
for (const id of cold.ids) {
  for (let k = 0; k < 4; k++) {
    hash ^= (id >>> (8 * k)) & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
}
console.log(JSON.stringify({
  mb_per_s_cold: megabytes / cold.seconds,
  mb_per_s_warm: megabytes / best,
  tokens: cold.ids.length,
  ids_hash: hash,
}));
