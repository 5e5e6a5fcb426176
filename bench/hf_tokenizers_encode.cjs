// Baseline for the tokenizer encode benchmark: Hugging Face's Rust tokenizers
// (npm `tokenizers`, its Node binding) encoding a UTF-8 text file on one
// thread, the way the C++ tokenizer is timed. Prints one JSON line:
//   {"tokens": N, "seconds": S, "tokens_per_s": R}
// seconds: the best of REPEATS passes (default 5) over the whole file; tokens:
// ids of one pass (no special tokens added).
//
//   node bench/hf_tokenizers_encode.cjs TOKENIZER_JSON TEXT_FILE [REPEATS]
//
// The file is split into lines (each keeps its '\n') and consecutive lines are
// gathered into chunks: a new chunk starts when the next line would take the
// current one past 4096 UTF-8 bytes (a longer line is a chunk of its own).
// Each chunk is one encode call, awaited before the next
// (encodeBatch is not used: it would fan out over threads). The package is
// looked up in $HF_TOKENIZERS_NODE_MODULES (default /tmp/npmtok/node_modules):
//   mkdir -p /tmp/npmtok && cd /tmp/npmtok && npm install tokenizers@0.23.2
process.env.RAYON_NUM_THREADS = '1';
process.env.TOKENIZERS_PARALLELISM = 'false';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const [tokenizerPath, textPath, repeatsArg] = process.argv.slice(2);
if (!tokenizerPath || !textPath) {
  console.error('usage: node bench/hf_tokenizers_encode.cjs TOKENIZER_JSON TEXT_FILE [REPEATS]');
  process.exit(2);
}
const repeats = Math.max(1, Number.parseInt(repeatsArg ?? '5', 10) || 5);
const modulesDir = process.env.HF_TOKENIZERS_NODE_MODULES ?? '/tmp/npmtok/node_modules';
const { Tokenizer } = createRequire(path.join(modulesDir, 'noop.js'))('tokenizers');

const CHUNK_BYTES = 4096;
const lines = fs.readFileSync(textPath, 'utf8').split(/(?<=\n)/); // keeps the newlines
const chunks = [];
let current = '';
let currentBytes = 0;
for (const line of lines) {
  const bytes = Buffer.byteLength(line);
  if (currentBytes > 0 && currentBytes + bytes > CHUNK_BYTES) {
    chunks.push(current);
    current = '';
    currentBytes = 0;
  }
  current += line;
  currentBytes += bytes;
}
if (currentBytes > 0) chunks.push(current);

(async () => {
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  let best = Infinity;
  let tokens = 0;
  for (let r = 0; r < repeats; r++) {
    let count = 0;
    const start = process.hrtime.bigint();
    for (const chunk of chunks) {
      const encoding = await tokenizer.encode(chunk, null, { addSpecialTokens: false });
      count += encoding.getLength();
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, seconds);
    tokens = count;
  }
  console.log(JSON.stringify({ tokens, seconds: best, tokens_per_s: tokens / best }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
