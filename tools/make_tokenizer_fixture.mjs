// Writes tests/fixtures/tokenizer/gpt2_cases.jsonl: GPT-2 token ids for a few
// hundred strings, computed by an implementation independent of ours — the npm
// package `gpt-tokenizer` (r50k_base, GPT-2's encoding) — and cross-checked
// line by line against the npm `tiktoken` (OpenAI's Rust tiktoken as WASM)
// when that is installed too.
//
// Also writes gpt2_tiktoken_cases.jsonl, ids from tiktoken alone, for the two
// places where gpt-tokenizer 4.0.0 is not GPT-2:
// - strings holding U+0085 or U+FEFF, where JavaScript's \s (gpt-tokenizer)
//   and Unicode White_Space (GPT-2's Python `regex`, tiktoken, HF tokenizers)
//   disagree;
// - <|endoftext|> recognised as the special token: gpt-tokenizer's search for
//   allowed special tokens uses a sticky regex and finds one only at the
//   start of the remaining text ("a<|endoftext|>" comes out as plain text).
// The script skips that file when tiktoken is not installed.
//
//   mkdir -p /tmp/gpttok && cd /tmp/gpttok && npm install gpt-tokenizer tiktoken
//   GPT_TOKENIZER_DIR=/tmp/gpttok node tools/make_tokenizer_fixture.mjs
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const moduleDir = process.env.GPT_TOKENIZER_DIR ?? '/tmp/gpttok';
const require = createRequire(join(moduleDir, 'node_modules', 'noop.js'));
const gpt = require('gpt-tokenizer/encoding/r50k_base');
let tiktoken = null;
try {
  tiktoken = require('tiktoken').get_encoding('r50k_base');
} catch {
  console.warn('tiktoken not installed: no cross-check, no whitespace fixture');
}
const EOT = '<|endoftext|>';

function encodeGpt(text, allowSpecial) {
  return allowSpecial
    ? gpt.encode(text, { allowedSpecial: new Set([EOT]) })
    : gpt.encode(text, { disallowedSpecial: new Set() });
}
function encodeTiktoken(text, allowSpecial) {
  return Array.from(tiktoken.encode(text, allowSpecial ? [EOT] : [], []));
}

// ---- Hand-written cases: one per behaviour worth pinning down. ----
const prose = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.',
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, I thought I would sail about a little.',
  'In the beginning God created the heaven and the earth. And the earth was without form, and void.',
  'Sparse autoencoders decompose the residual stream of GPT-2 into interpretable features.',
  'She sells sea-shells by the sea-shore; the shells she sells are sea-shells, I\'m sure.',
  'To be, or not to be, that is the question:\nWhether \'tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,',
  'e-mail: someone@example.com, web: https://example.org/path?q=1&r=two#frag',
  'C:\\Program Files\\SAEScope\\bin\\saescope.exe --threads 4',
  'for (int i = 0; i < n; ++i) { sum += x[i] * w[i]; }',
  'def encode(self, text):\n    return [self.encoder[b] for b in text]\n',
  '{"ids": [1, 2, 3], "tokens": ["a", "b"]}',
  '<html><body><p class="x">Text &amp; more</p></body></html>',
  '# Heading\n\n* item one\n* item two\n\n```cpp\nint main() {}\n```\n',
  'Mr. and Mrs. Dursley, of number four, Privet Drive, were proud to say that they were perfectly normal, thank you very much.',
  'ALL CAPS SENTENCE WITH SHOUTING!!!',
  'camelCaseIdentifier snake_case_identifier kebab-case-identifier',
  'The year 1984 had 366 days; 2^10 = 1024 and 3.14159 is pi.',
  'Version v1.2.3-rc.4+build.567 released on 2024-01-15T12:34:56Z.',
];
const contractions = [];
for (const c of ['s', 't', 're', 've', 'd', 'm', 'll']) {
  const variants = new Set([c, c.toUpperCase(), c[0].toUpperCase() + c.slice(1)]);
  for (const v of variants) {
    contractions.push(`it'${v}`, `He'${v} here`, `'${v}`, ` '${v} x`, `x''${v}`, `'${v}'${v}`);
  }
}
contractions.push("I'm sure you're right, we've said we'd go and they'll come, but it's not what I'd've done.",
  "DON'T YOU'RE WE'VE THEY'LL I'M SHE'D IT'S", "rock 'n' roll, o'clock, y'all, ma'am",
  "'tis the season", "the dogs' bones", "James's book", "''", "'", "' s", "'S'T'RE'VE'M'LL'D",
  "don’t (curly apostrophe) isn’t handled as a contraction");
const numbers = [
  '0', '7', '42', '123', '1234', '12345', '1234567890', '3.14', '-273.15', '1,000,000',
  '1e10', '0x1F', '007', '2024', ' 2024', '  99', '١٢٣ Arabic-Indic digits', '½ ¾ ² ³ Ⅻ',
  'in 2019 and 2020 and 2021', 'phone +1 (555) 123-4567', '$19.99 / €20,50 / ¥1000',
];
const punctuation = [
  '!', '!!', '!!!', '?!?!', '...', '…', '---', '—', '–', '***', '###', '@@@', '$$$', '%%%',
  '!@#$%^&*()_+-=[]{}|;:,.<>/?`~', ' !', ' ...', 'a.b.c', '(a) [b] {c}', '"quoted" \'single\'',
  '«guillemets» „German“ “smart”', '::', '->', '=>', '<=>', '//', '/* */', '\\\\', '~~~',
];
const whitespace = [
  '', ' ', '  ', '   ', '    ', '        ', '\t', '\t\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n',
  ' \n', '\n ', ' \t \n ', 'a b', 'a  b', 'a   b', 'a    b', 'a\tb', 'a\t\tb', 'a\nb', 'a\n\nb',
  'a \n b', 'a\n  b', '  leading', '   leading three', 'trailing ', 'trailing   ', 'trailing\n',
  'trailing \n\n', '\tindented\n\t\tmore', '    four space indent', 'x \t y', 'end.  Next', 'end.\n\nNext',
  'a\u00A0b', 'a \u00A0 b', 'x\u3000y', 'x\u2028y', 'x\u2003\u2003y', 'x\u000By', 'x\u000Cy',
  'x\u001Cy', ' \u200B ', 'x \u202F y', ' ' + ' '.repeat(40) + 'x', '\n'.repeat(20), ' \t'.repeat(10),
];
const accented = [
  'café', 'naïve résumé', 'Ångström', 'Zürich Straße', 'crème brûlée', 'São Paulo', 'Łódź',
  'Dvořák', 'façade', 'El Niño', 'İstanbul ığdır', 'ÀÉÎÕÜ àéîõü', 'Ærøskøbing',
  'cafe\u0301 (combining acute)', 'n\u0303 combining tilde', 'Ελληνικά γράμματα', 'Русский текст',
  'Українська мова', 'עברית', 'العربية', 'हिन्दी भाषा', 'ภาษาไทย', 'Tiếng Việt',
];
const cjk = [
  '你好', '你好，世界！', '中文字符测试', '日本語のテキスト', 'ひらがな カタカナ', '한국어 텍스트',
  '漢字かな交じり文', '東京タワー', '北京 2008', '「引用」『二重』', '全角ＡＢＣ１２３',
];
const emoji = [
  '😀', '😀😃😄', 'I ❤️ NY', '👍🏽', '👨‍👩‍👧‍👦 family', '🇫🇷 flag', 'a😀b', ' 😀', '🙂 🙃',
  '✨sparkles✨', '🐍 Python', '©®™', '∑∫∂√∞', '→←↑↓', '♠♣♥♦', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟘𝟙𝟚',
];
const mixed = [
  'Hello 世界 🌍!', 'Ünïcödé and ASCII', 'GPT-2は素晴らしい', 'Москва-Moscow-莫斯科',
  'price: 100€ (≈ $108)', 'x² + y² = z²', 'naïve café 😀 日本', 'Tab\tand 中文\n换行',
  'αβγ123', '123abc', 'abc123def', 'a1b2c3', 'ÀB12€', '"Hello," she said. "It\'s 5 o\'clock."',
];
// <|endoftext|> as ordinary text (the default); as the special token below.
const specialAsText = [EOT, `Hello${EOT}world`, ` ${EOT} `, `${EOT}${EOT}`, `text ${EOT}\n\nnew doc`,
  '<|endoftext', '<|endoftext|', `<|endoftext|>>`, '<|', '<|endoftext|> <|ENDOFTEXT|>'];
const specialAllowed = [EOT, `Hello${EOT}world`, `${EOT}${EOT}`, ` ${EOT} `, `text ${EOT}\n\nnew doc`,
  '<|endoftext', '<|endoftext|', `<|endoftext|>>`, `a${EOT}`, `${EOT}b`, `<|${EOT}|>`,
  `x ${EOT}'s`, `${EOT}\n`, `  ${EOT}  `];

// ---- Generated cases: random mixes of fragments (deterministic PRNG). ----
let seed = 20240601;
function rand() {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
}
const fragments = [
  'the', 'The', ' of', ' and', 'ing', ' token', 'izer', 'GPT', "'s", "'t", "'re", "'ve", "'d", "'m", "'ll",
  "'S", "'LL", '0', '12', '345', '6789', '.', ',', '!', '?', '...', '--', '(', ')', '"', "'", ' ', '  ',
  '   ', '\t', '\n', '\n\n', '\r\n', ' \n', 'é', 'ü', 'ñ', 'ß', '中', '文', 'の', '한', 'я', 'ω', '😀',
  '🎉', '👍🏽', '\u00A0', '\u3000', '$', '%', '#', '@', '_', '-', '+', '=', '/', '\\', '|', '~',
  'word', ' word', 'Word', 'WORD', 'a', 'b', 'x', 'q', 'z', 'über', 'Ω', '²', '½', '٣', '\u0301',
];
const generated = [];
for (let i = 0; i < 220; i++) {
  const n = 1 + Math.floor(rand() * 12);
  let s = '';
  for (let k = 0; k < n; k++) s += fragments[Math.floor(rand() * fragments.length)];
  generated.push(s);
}

const cases = [];
for (const s of [...prose, ...contractions, ...numbers, ...punctuation, ...whitespace, ...accented,
  ...cjk, ...emoji, ...mixed, ...specialAsText, ...generated]) cases.push([s, false]);

function build(list, encoder, check) {
  const seen = new Set();
  const lines = [];
  for (const [text, allowSpecial] of list) {
    const key = JSON.stringify([text, allowSpecial]);
    if (seen.has(key)) continue;
    seen.add(key);
    const ids = encoder(text, allowSpecial);
    if (check) check(text, allowSpecial, ids);
    const row = { text, ids };
    if (allowSpecial) row.allow_special = true;
    lines.push(JSON.stringify(row));
  }
  return lines;
}

let disagreements = 0;
const main = build(cases, encodeGpt, (text, allowSpecial, ids) => {
  if (/[\u0085\uFEFF]/.test(text)) throw new Error(`keep U+0085/U+FEFF out of the main fixture: ${JSON.stringify(text)}`);
  if (!tiktoken) return;
  const other = encodeTiktoken(text, allowSpecial);
  if (JSON.stringify(other) !== JSON.stringify(ids)) {
    disagreements++;
    console.error(`gpt-tokenizer and tiktoken disagree on ${JSON.stringify(text)}: ${ids} vs ${other}`);
  }
});
if (disagreements) process.exit(1);
const outDir = join(here, '..', 'tests', 'fixtures', 'tokenizer');
writeFileSync(join(outDir, 'gpt2_cases.jsonl'), main.join('\n') + '\n');
console.log(`gpt2_cases.jsonl: ${main.length} cases${tiktoken ? ', all equal in tiktoken' : ''}`);

if (tiktoken) {
  const ws = [
    'x \u0085!', '\u0085\u0085a', 'a\u0085b', 'a \u0085 b', ' \u0085', '!\u0085!',
    'x \uFEFF!', '\uFEFF\uFEFFa', '\uFEFFBOM at start', ' \uFEFF z', 'x \u180E!', 'a\u180Eb',
  ].map((s) => [s, false]);
  const lines = build([...ws, ...specialAllowed.map((s) => [s, true])], encodeTiktoken, null);
  writeFileSync(join(outDir, 'gpt2_tiktoken_cases.jsonl'), lines.join('\n') + '\n');
  console.log(`gpt2_tiktoken_cases.jsonl: ${lines.length} cases from tiktoken`);
}
