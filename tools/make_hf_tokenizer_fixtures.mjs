// Writes tests/fixtures/tokenizer/hf/<name>_cases.jsonl for name in gemma3,
// llama3, llama3_1, qwen3, llama2, neox (issue #15): one JSON object a line,
//   {"text": ..., "ids": [...], "ids_special": [...]}          or
//   {"text": ..., "ids": [...], "ids_special": [...], "decoded": ...}
// ids: Hugging Face's Rust tokenizers (npm `tokenizers`, its Node binding)
// encoding text with addSpecialTokens false; ids_special: the same with
// addSpecialTokens true (what the post-processor adds: BOS for some);
// decoded, only where it differs from text: HF's decode(ids) keeping special
// tokens (normalizers make it differ: NFC, ▁ for space). HF is the
// reference. Every string is also encoded by @lenml/tokenizers (a JS fork of
// transformers.js, written independently of HF's Rust code) and the
// disagreements are printed; they do not fail the script.
//
// The five real tokenizers come from tools/fetch_tokenizer_fixtures.sh; neox
// is built here from GPT-2's vocab.json/merges.txt (buildNeox below; the
// README spells out the recipe, the C++ test rebuilds the same file).
//
//   mkdir -p /tmp/npmtok && (cd /tmp/npmtok && npm install tokenizers@0.23.2 @lenml/tokenizers@3.7.2)
//   tools/fetch_tokenizer_fixtures.sh /tmp/hf-tokenizers
//   HF_TOKENIZERS_DIR=/tmp/hf-tokenizers node tools/make_hf_tokenizer_fixtures.mjs
//
// Environment: HF_TOKENIZERS_DIR (the fetch script's DEST; default
// /tmp/hf-tokenizers), HF_TOKENIZERS_NODE_MODULES (default
// /tmp/npmtok/node_modules), GPT2_TOKENIZER_DIR (vocab.json + merges.txt;
// default /work/shared/data/gpt2-tokenizer), NEOX_TOKENIZER_OUT (default
// /tmp/neox/tokenizer.json), JS_DISAGREEMENTS_OUT (optional: every
// disagreement as JSON lines, for study).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'tests', 'fixtures', 'tokenizer', 'hf');
const tokDir = process.env.HF_TOKENIZERS_DIR ?? '/tmp/hf-tokenizers';
const modulesDir = process.env.HF_TOKENIZERS_NODE_MODULES ?? '/tmp/npmtok/node_modules';
const gpt2Dir = process.env.GPT2_TOKENIZER_DIR ?? '/work/shared/data/gpt2-tokenizer';
const neoxOut = process.env.NEOX_TOKENIZER_OUT ?? '/tmp/neox/tokenizer.json';
const require = createRequire(join(modulesDir, 'noop.js'));
const { Tokenizer } = require('tokenizers');
const { TokenizerLoader } = require('@lenml/tokenizers');

const MAX_LEN = 300; // UTF-16 code units; keeps the files small

// ---------------------------------------------------------------------------
// Deterministic PRNG (mulberry32) and helpers.
let seed = 0x5ae5c0be;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;
const cps = (s) => [...s];
function randFromRanges(ranges) { // ranges: [[lo, hi], ...] code points, inclusive
  const [lo, hi] = pick(ranges);
  return String.fromCodePoint(int(lo, hi));
}
function shuffle(a) { // Fisher-Yates, in place
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
function clip(s) { // cut at MAX_LEN without splitting a surrogate pair
  if (s.length <= MAX_LEN) return s;
  let out = '';
  for (const c of s) {
    if (out.length + c.length > MAX_LEN) break;
    out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The shared corpus: the same strings, in the same order, for every tokenizer.
const prose = [
  'Hello world',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.',
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, I thought I would sail about a little.',
  'In the beginning God created the heaven and the earth. And the earth was without form, and void.',
  'Sparse autoencoders decompose the residual stream of a transformer into interpretable features.',
  'Mr. and Mrs. Dursley, of number four, Privet Drive, were proud to say that they were perfectly normal, thank you very much.',
  'To be, or not to be, that is the question:\nWhether \'tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,',
  'ALL CAPS SENTENCE WITH SHOUTING!!!',
  'camelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_SNAKE',
  'e-mail: someone@example.com, web: https://example.org/path?q=1&r=two#frag',
  'C:\\Program Files\\SAEScope\\bin\\saescope.exe --threads 4',
  'Version v1.2.3-rc.4+build.567 released on 2024-01-15T12:34:56Z.',
  'The mitochondria is the powerhouse of the cell; photosynthesis happens in chloroplasts.',
  '"Quoted speech," she said, "should keep its quotes."',
  '«Guillemets» „German quotes“ “smart quotes” ‘single smart’ – en dash — em dash … ellipsis',
  'antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis floccinaucinihilipilification',
  'Supercalifragilisticexpialidocious!',
  'Once upon a time, in a land far, far away, there lived a tokenizer that split words into pieces.',
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.',
  'The year 1984 had 366 days; 2^10 = 1024 and 3.14159 is pi.',
  'Q: What is 2+2?\nA: 4.',
  '# Heading\n\n* item one\n* item two\n\n> quoted line\n',
  '| col a | col b |\n|-------|-------|\n| 1     | 2     |',
  '$\\int_0^1 x^2\\,dx = \\frac{1}{3}$ and $\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$',
  'https://huggingface.co/docs/tokenizers/index?utm_source=test&x=%20y',
  'user@host:~/src$ git commit -m "fix: tokenizer" && git push origin main',
  'P.S. Don\'t forget the U.S.A., the U.K., e.g., i.e., etc.',
  'iPhone iPad macOS YouTube GitHub JavaScript TypeScript PyTorch LibTorch',
];
const words = ['the', 'of', 'and', 'to', 'in', 'is', 'was', 'that', 'for', 'on', 'with', 'as', 'by', 'at',
  'token', 'tokenizer', 'model', 'feature', 'sparse', 'autoencoder', 'residual', 'stream', 'layer',
  'attention', 'neuron', 'activation', 'language', 'Hugging', 'Face', 'Llama', 'Gemma', 'Qwen', 'bank',
  'river', 'money', 'spring', 'summer', 'running', 'unbelievable', 'reconstruction', 'interpretability',
  'I', 'you', 'they', 'we', 'it', 'a', 'an', 'this', 'there', 'where', 'when', 'how', 'why', 'who',
  'quickly', 'slowly', 'never', 'always', 'maybe', 'New', 'York', 'Paris', 'Tokyo', 'COVID-19', 'GPU'];
const punct = ['.', ',', '!', '?', ';', ':', '...', ' -', ' —', '"', "'", ')', '(', ' &'];
function randomSentence() {
  const n = int(3, 16);
  const out = [];
  for (let i = 0; i < n; i++) {
    let w = pick(words);
    if (i === 0 || chance(0.08)) w = w[0].toUpperCase() + w.slice(1);
    if (chance(0.04)) w = w.toUpperCase();
    out.push(w);
    if (chance(0.12)) out[out.length - 1] += pick(punct);
  }
  return out.join(' ') + pick(['.', '!', '?', '', '\n']);
}

const code = [
  'def encode(self, text):\n    return [self.encoder[b] for b in text]\n',
  'import numpy as np\n\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)',
  'class Foo(Bar):\n    """Docstring."""\n\n    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)\n',
  'for i in range(10):\n\tif i % 2 == 0:\n\t\tprint(f"{i=}")\n',
  'lambda x: x ** 2 if x > 0 else -x  # comment',
  'async def main() -> None:\n    await asyncio.sleep(0.5)\n',
  '#include <vector>\n#include <string>\n\nint main(int argc, char** argv) {\n  std::vector<int> v{1, 2, 3};\n  return 0;\n}\n',
  'for (int i = 0; i < n; ++i) { sum += x[i] * w[i]; }',
  'template <typename T>\nstd::unique_ptr<T> make(Args&&... args) { return std::make_unique<T>(std::forward<Args>(args)...); }',
  'auto [it, ok] = map.try_emplace(key, value);  // C++17',
  'if (a != b && c <= d || !e) { x->y = z ? 1 : 0; }',
  'std::cout << "Hello, " << name << "!\\n";',
  '{"ids": [1, 2, 3], "tokens": ["a", "b"], "nested": {"k": null, "t": true, "f": 1.5e-3}}',
  '{\n  "name": "saescope",\n  "version": "1.0.0",\n  "dependencies": {}\n}',
  '[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]',
  '<html><body><p class="x">Text &amp; more</p></body></html>',
  '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Test</title></head>\n</html>',
  '<div id="main" style="color:red;"><a href="https://example.com/?a=1&b=2">link</a></div>',
  '<table><tr><th>Name</th><td>Value</td></tr></table>',
  '<s>struck</s> <b>bold</b> <i>italic</i> <code>x</code> <pre>  y</pre>',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;',
  '#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo "$f"; done',
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n}',
  'const f = async (a, b = {}) => { await g(...a); return b?.c ?? 0; };',
  'x = [1,2,3]\ny = {"a":1}\nz = (x, y)',
  '    indented four spaces\n        eight spaces\n\ttab\n\t\ttwo tabs',
  'mov eax, [ebp+8]\npush eax\ncall _printf',
  '\\documentclass{article}\n\\begin{document}\nHello $x^2$\n\\end{document}',
  'key: value\nlist:\n  - a\n  - b\nnested:\n  inner: 1',
  'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new',
  '0x7fffffff 0b1010 0o755 1_000_000 3.0f 1e-9 .5 5.',
  '/* block comment */ // line comment\n# hash comment\n-- sql comment',
];
const identifiers = ['x', 'y', 'i', 'n', 'idx', 'count', 'value', 'self', 'this', 'result', 'tokens',
  'std', 'vector', 'size_t', 'np', 'torch', 'buf', 'ptr', 'len', 'data', 'MAX_SIZE', 'fooBar', 'foo_bar'];
const operators = [' = ', ' == ', ' != ', ' += ', ' -> ', '->', '::', '.', ', ', ' && ', ' || ', ' << ', ' >> ',
  ' ** ', ' // ', ' % ', '(', ')', '[', ']', '{', '}', ';', ':', ' ? ', '++', '--', ' <= ', ' >= ', ' => '];
function randomCodeLine() {
  let s = pick(['', '    ', '        ', '\t', '\t\t', '  ']);
  const n = int(2, 10);
  for (let i = 0; i < n; i++) {
    s += chance(0.5) ? pick(identifiers) : chance(0.3) ? String(int(0, 99999)) : pick(operators);
  }
  return s + pick(['', ';', ':', ' {', '\n', ');\n', '\r\n']);
}

function digits(n) {
  let s = String(int(1, 9));
  while (s.length < n) s += String(int(0, 9));
  return s;
}
function thousands(s) {
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
const numbersFixed = ['0', '7', '42', '123', '1234', '12345', '123456', '1234567', '1234567890',
  '1,234,567', '1.234.567,89', '3.14', '-273.15', '+1', '1e10', '6.022e23', '1E-7', '0.000001',
  '007', '2024', ' 2024', '  99', '100%', '50/50', '1/2', '3:45pm', '12:00:00', '2024-01-15',
  '192.168.0.1', '::1', 'v2.0.1', '$19.99', '€20,50', '¥1000', '£5', '#1', 'No. 5', '4th 21st 102nd',
  '١٢٣ Arabic-Indic', '۱۲۳ Persian', '०१२३ Devanagari', '１２３ fullwidth', '½ ¾ ² ³ Ⅻ ⅷ', '𝟘𝟙𝟚 math',
  'abc123def456', 'a1b2c3', 'x86_64', 'H2O CO2', 'MP3 4K 5G', '1st2nd3rd', '9999999999999999999999',
  '3.141592653589793238462643383279502884197169399375105820974944592307816406286',
  '+1 (555) 123-4567', '4111 1111 1111 1111', '0xDEADBEEF', '1,2,3,4,5', '1.2.3.4.5', '10^9', '2**64'];
function randomNumber() {
  switch (int(0, 7)) {
    case 0: return digits(int(1, 40));
    case 1: return `${digits(int(1, 8))}.${digits(int(1, 12))}`;
    case 2: return thousands(digits(int(4, 16)));
    case 3: return `${pick(['', '-', '+', '$', '€'])}${thousands(digits(int(1, 9)))}.${String(int(0, 99)).padStart(2, '0')}`;
    case 4: return `${pick(words)} ${digits(int(1, 6))} ${pick(words)} ${digits(int(1, 6))}`;
    case 5: return `${digits(int(1, 3))}e${pick(['', '-', '+'])}${int(0, 300)}`;
    case 6: return Array.from({ length: int(2, 8) }, () => digits(int(1, 5))).join(pick([' ', ',', ', ', '.', '-', '\n', '\t']));
    default: return `${pick(words)}${digits(int(1, 12))}${pick(['', pick(words)])}`;
  }
}

const wsPieces = [' ', '  ', '   ', '    ', '\t', '\t\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n', '\r',
  ' \n', '\n ', ' \t', '\t ', '\u00a0', '\u3000', '\u2009', '\u2003', '\u202f', '\u000b', '\u000c',
  '\u0085', '\u2028', '\u2029', '\u200b', '\u1680'];
const whitespaceFixed = ['', ' ', '  ', '   ', '    ', '        ', '\t', '\t\t', '\n', '\n\n', '\n\n\n',
  '\r\n', '\r\n\r\n', '\r', ' \n', '\n ', ' \t \n ', 'a b', 'a  b', 'a   b', 'a    b', 'a\tb', 'a\t\tb',
  'a\nb', 'a\n\nb', 'a \n b', 'a\n  b', 'a\r\nb', 'a\r\n\r\nb', 'a \r\n b', 'a\rb', '  leading',
  '   leading three', 'trailing ', 'trailing   ', 'trailing\n', 'trailing \n\n', '\tindented\n\t\tmore',
  '    four space indent', 'x \t y', 'end.  Next', 'end.\n\nNext', 'a\u00a0b', 'a \u00a0 b', 'x\u3000y',
  'x\u2028y', 'x\u2003\u2003y', 'x\u000by', 'x\u000cy', 'x\u0085y', 'x \u0085 y', ' \u200b ', 'x \u202f y',
  '\ufeffBOM at start', 'a\ufeffb', ' '.repeat(41) + 'x', '\n'.repeat(20), ' \t'.repeat(10), '\r\n'.repeat(8),
  ' '.repeat(16) + '\n' + ' '.repeat(16), 'x' + ' '.repeat(100) + 'y', ' \n \n \n', '\t \t \t x'];
function randomWhitespace() {
  let s = '';
  const n = int(1, 8);
  if (chance(0.4)) s += pick(wsPieces);
  for (let i = 0; i < n; i++) {
    s += chance(0.6) ? pick(words) : pick(['.', ',', '!', '0', '42', '(', ')', 'é', '中', '😀']);
    s += chance(0.7) ? pick(wsPieces) : pick(wsPieces).repeat(int(2, 6));
  }
  if (chance(0.5)) s = s.trimEnd();
  return s;
}

const scripts = {
  chinese: ['你好', '你好，世界！', '中文字符测试', '我爱自然语言处理。', '今天天气很好，我们去公园散步吧。',
    '机器学习是人工智能的一个分支。', '北京 2008 年奥运会', '「引用」『二重引用』【括号】', '繁體中文與简体中文',
    '他说：“这是一个测试。”', '一二三四五六七八九十百千万亿', '𠀀𠀁𠀂 扩展B区汉字 𪚥', '龍龘靐齉'],
  japanese: ['ひらがな', 'カタカナ', 'こんにちは、世界！', '日本語のテキストです。', '漢字かな交じり文',
    '東京タワーに行きました。', 'ｶﾀｶﾅ ﾊﾝｶｸ', 'がぎぐげご ぱぴぷぺぽ', 'ガギグゲゴ パピプペポ ヴ', 'きゃきゅきょ ッ ー',
    'ありがとうございます！', '「吾輩は猫である。名前はまだ無い。」', 'ゟ ヿ ㋿ ㍻'],
  korean: ['안녕하세요', '한국어 텍스트', '대한민국의 수도는 서울입니다.', '감사합니다!', '뷁 똠방각하',
    '한글은 1443년에 창제되었다.', '나는 학생이다. 너는?', 'ㄱㄴㄷㄹ ㅏㅑㅓㅕ'],
  arabic: ['مرحبا بالعالم', 'العربية', 'اللغة العربية جميلة.', 'مَرْحَبًا', 'بِسْمِ اللَّهِ', 'عدد ١٢٣ و 456',
    'שלום עולם', 'עברית עם ניקוד: שָׁלוֹם', 'فارسی: سلام دنیا'],
  hindi: ['नमस्ते दुनिया', 'हिन्दी भाषा', 'मैं हिंदी बोलता हूँ।', 'क्षत्रिय ज्ञान श्री', 'संस्कृतम्',
    'বাংলা ভাষা', 'தமிழ் மொழி', 'ਪੰਜਾਬੀ', 'ગુજરાતી'],
  thai: ['ภาษาไทย', 'สวัสดีครับ', 'ฉันรักภาษาไทยมาก', 'กรุงเทพมหานคร อมรรัตนโกสินทร์', 'น้ำ ผู้ใหญ่ ก็ได้',
    'ພາສາລາວ', 'ភាសាខ្មែរ', 'မြန်မာဘာသာ'],
  other: ['Ελληνικά γράμματα', 'Русский текст', 'Українська мова', 'Беларуская', 'Српски језик',
    'Tiếng Việt có nhiều dấu: ắ ằ ẳ ẵ ặ', 'Ქართული ენა', 'Հայերեն', 'ᎠᏍᎦᏯ', 'ᐃᓄᒃᑎᑐᑦ', 'ትግርኛ አማርኛ',
    'Türkçe: İstanbul, ığdır, şçğüö', 'Polski: zażółć gęślą jaźń', 'Čeština: příliš žluťoučký kůň',
    'Íslenska: þ ð æ ö', 'Deutsch: Straße, Größe, Maß', 'Français: où, déjà, naïve, cœur', 'Español: ¿Qué? ¡Sí! año'],
};
const ranges = {
  chinese: [[0x4e00, 0x9fa5]],
  japanese: [[0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5], [0x3001, 0x3002]],
  korean: [[0xac00, 0xd7a3]],
  arabic: [[0x0621, 0x064a], [0x064b, 0x0652]],
  hindi: [[0x0905, 0x0939], [0x093e, 0x094d]],
  thai: [[0x0e01, 0x0e2e], [0x0e30, 0x0e3a], [0x0e40, 0x0e4e]],
};
function randomScript(name) {
  let s = '';
  const n = int(1, 6);
  for (let w = 0; w < n; w++) {
    const len = int(1, 8);
    for (let i = 0; i < len; i++) s += randFromRanges(ranges[name]);
    if (w + 1 < n) s += name === 'chinese' || name === 'thai' ? pick(['', '', '，', '。', ' ']) : pick([' ', ' ', '、', '. ', ', ']);
  }
  return s;
}

const emoji = ['😀', '😀😃😄', 'I ❤️ NY', 'I ❤ NY', '❤︎ text style', '👍', '👍🏻👍🏼👍🏽👍🏾👍🏿',
  '👨‍👩‍👧‍👦 family', '👩‍💻 technologist', '🏳️‍🌈 rainbow flag', '🏴‍☠️', '🧑🏽‍🚀', '👁️‍🗨️',
  '🇫🇷 flag', '🇺🇸🇬🇧🇯🇵🇩🇪', '🇦', '🇦🇧🇨', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland', '1️⃣ 2️⃣ #️⃣ *️⃣', 'a😀b', ' 😀', '🙂 🙃',
  '✨sparkles✨', '🐍 Python', '🤗 Hugging Face', '🔥🔥🔥', '©®™', '☺ ☹ ☀ ☁', '∑∫∂√∞≠≈', '→←↑↓⇒',
  '♠♣♥♦', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝓼𝓬𝓻𝓲𝓹𝓽', '🀄🃏', '🫠🫡🫥', 'emoji😀in😃the😄middle', '😀\n😀\t😀'];
const emojiPool = ['😀', '😂', '🥲', '🤔', '👍', '👍🏽', '❤️', '🔥', '🎉', '🚀', '👨‍👩‍👧', '👩🏾‍🔬', '🇯🇵',
  '🇧🇷', '🏳️‍⚧️', '😶‍🌫️', '🐈‍⬛', '✅', '⭐', '☕', '🍕', '🌍', '🙏🏼', '💯'];
function randomEmoji() {
  let s = '';
  const n = int(1, 6);
  for (let i = 0; i < n; i++) {
    s += pick(emojiPool);
    if (chance(0.5)) s += pick([' ', '', ' ', pick(words), pick(words) + ' ', '!', '\n']);
  }
  return s;
}

// Not in NFC: normalizers (NFC in qwen3 and neox) change these; the others
// must not.
const nonNfc = ['e\u0301', 'cafe\u0301', 'e\u0301t\u00e9', 'a\u0308 o\u0308 u\u0308', 'n\u0303',
  'A\u030a (A + ring) vs \u212b (angstrom sign) vs \u00c5', '\u2126 ohm sign vs \u03a9 omega',
  '\u1100\u1161\u11a8 decomposed 각', '\u1112\u1161\u11ab\u1100\u1173\u11af 한글 jamo',
  'a\u0301\u0323 vs a\u0323\u0301', 'q\u0307\u0323', '\u1e9b\u0323', '\u0344', '\u0958 \u0915\u093c',
  '\uf900 CJK compatibility', '\u2f00 kangxi radical', '\u0301 starts with a combining mark', 'x\u0301\u0301\u0301',
  'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034da\u0352\u0309\u0307lgo',
  '\ufb01 ligature fi', '\u00bd \u2153', 'Å Å Å', 'ñ ñ', 'ü ü', '\u0041\u030a\u0301', 'O\u0328\u0304',
  'Ǭ vs O\u0328\u0304 vs O\u0304\u0328', '\u0e40\u0e01\u0e48 thai', 'ก\u0e48\u0e4a', 'ά (U+1F71) vs ά',
  '\u1f71\u1fbb', '\u0390 \u03ca\u0301', '\u05e9\u05c1\u05bc vs \u05e9\u05bc\u05c1', 'वि\u093c', '\u0627\u0653',
  '\u30ab\u3099 \u30ac', '\u304b\u3099 が', '\u3131\u314f (compatibility jamo)', '\u1100\u1161\u1100\u1161\u1100\u1161',
  'e\u0301e\u0301e\u0301e\u0301e\u0301', 'D\u0307 \u1e0a', 'i\u0307 \u0130', 'ﬀ ﬃ ℌ ℍ ℡ ㈱ ㍿'];
const combining = ['\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u030a', '\u0323', '\u0327', '\u0328', '\u0304', '\u0331', '\u036f'];
function randomNonNfc() {
  let s = '';
  const n = int(1, 10);
  for (let i = 0; i < n; i++) {
    switch (int(0, 3)) {
      case 0: s += pick('aeiouAEIOUncszyg'.split('')) + pick(combining) + (chance(0.3) ? pick(combining) : ''); break;
      case 1: { // a precomposed Hangul syllable written as jamo
        const L = int(0, 18), V = int(0, 20), T = int(0, 27);
        s += String.fromCodePoint(0x1100 + L, 0x1161 + V) + (T ? String.fromCodePoint(0x11a7 + T) : '');
        break;
      }
      case 2: s += pick(words); break;
      default: s += pick([' ', ' ', '', '\n', '.', ', ']);
    }
  }
  return s;
}

const fullwidth = ['ＡＢＣ １２３ ！？', 'Ｈｅｌｌｏ，ｗｏｒｌｄ！', '全角ＡＢＣ１２３', '（括弧）［角］｛波｝', '＠＃＄％＾＆＊',
  'ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ', 'ｶﾀｶﾅ ｱｲｳｴｵ', '\u3000全角スペース\u3000', 'ＤＯＮ＇Ｔ ｄｏｎ＇ｔ',
  '￥１，０００', '～〜', 'ｆｕｌｌ　ｗｉｄｔｈ　ｓｐａｃｅ', '＜ｓ＞ ＜／ｓ＞', '｜ｅｎｄｏｆｔｅｘｔ｜'];

const mixedFixed = ['Hello 世界 🌍!', 'Ünïcödé and ASCII', 'GPT-2は素晴らしい', 'Москва-Moscow-莫斯科',
  'price: 100€ (≈ $108)', 'x² + y² = z²', 'naïve café 😀 日本', 'Tab\tand 中文\n换行', 'αβγ123', 'ÀB12€',
  'English, 中文, 日本語, 한국어, العربية, हिन्दी, ไทย', 'Python 代码: print("你好")', 'SAEScopeは日本語もOK',
  'mixed-script: pаypal.com (Cyrillic а)', 'ΑΒΓ vs ABC', 'Ελληνικά and English and Русский', '🇯🇵 日本 Japan',
  'مرحبا Hello שלום 你好', 'left-to-right \u202eright-to-left override\u202c back', 'zero\u200bwidth\u200cjoin\u200dhere'];

const contractionsFixed = ["I'm sure you're right, we've said we'd go and they'll come, but it's not what I'd've done.",
  "DON'T YOU'RE WE'VE THEY'LL I'M SHE'D IT'S", "Don't You're We've They'll I'm She'd It's",
  "don’t you’re we’ve they’ll I’m she’d it’s", "DON’T YOU’RE WE’VE", "rock 'n' roll, o'clock, y'all, ma'am",
  "'tis the season", "the dogs' bones", "James's book", "''", "'", "' s", "'S'T'RE'VE'M'LL'D", "’s’t’re",
  "can't won't shan't ain't", "CAN'T WON'T", "Can'T wOn'T", "I'LL i'll I'Ll", "it's It's IT'S iT'S",
  "he said 'hello' and 'goodbye'", "‘quoted’ and ’tis", "x''s", "'s'd'm", "O'Neil O'NEIL D'Angelo",
  "l'homme, l'école, aujourd'hui", "don't\ndon't\tdon't  don't", "'ll'LL'Ll'lL", "’LL’ll", "'123 '456"];
const contractionSuffixes = ['s', 't', 're', 've', 'd', 'm', 'll'];
function randomContraction() {
  const ap = pick(["'", "'", '’', "'"]);
  const stem = pick(['it', 'he', 'she', 'they', 'we', 'you', 'I', 'don', 'can', 'won', 'would', 'that', 'who', 'x', '']);
  let suf = pick(contractionSuffixes);
  suf = pick([suf, suf.toUpperCase(), suf[0].toUpperCase() + suf.slice(1)]);
  let w = stem + ap + suf;
  if (chance(0.3)) w = w.toUpperCase();
  return pick(['', ' ', 'Well, ', '"', '(']) + w + pick(['', ' ', ' here.', '!', '\n', ' not']);
}

const misc = ['a', 'A', 'ab', 'z', '.', '!', '?', '-', '_', '@', '~', '`', '^', '\\', '/', '|', '"', '<', '>',
  '!@#$%^&*()_+-=[]{}|;:,.<>/?`~', ' !', ' ...', 'a.b.c', '(a) [b] {c}', '...', '…', '---', '—', '–', '***',
  '::', '->', '=>', '<=>', '//', '/* */', '\\\\', '~~~', '!!!!!!!!!!', '??', '....................',
  '--------------------------------', '================', '________________', '################',
  'a'.repeat(250), 'ab'.repeat(100), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', 'é'.repeat(60), '中'.repeat(50),
  '😀'.repeat(30), 'ha'.repeat(40), 'lol'.repeat(30), '0'.repeat(64), '1'.repeat(100), ' a'.repeat(60),
  'SGVsbG8gd29ybGQhIFRoaXMgaXMgYmFzZTY0Lg==', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '\u0001\u0002\u0003 control', 'a\u007fb', '\u001b[31mred\u001b[0m', '\ufffd replacement char', '\ue000\uf8ff private use',
  '\u{10ffff} last code point', '\uffff noncharacter', '\u{1d400}\u{1d401}\u{1d402} math bold', '\u{20000}\u{2a6d6}',
  '<unk>', '<pad>', '<s>', '</s>', '<|endoftext|>', '<|endoftext', '<|endoftext|', '<|endoftext|>>', '<|', '|>',
  '<|im_start|>', '<|ENDOFTEXT|>', '<bos>', '<eos>', '< s >', '<S>', '<mask>', '<think>', '</think>', '<unused0>',
  '<start_of_turn>user\nHi there!<end_of_turn>\n<start_of_turn>model\n',
  '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  '<s>[INST] Hi! [/INST] Hello!</s>', '<|endoftext|>Once upon a time<|endoftext|>',
  '▁ U+2581 lower one eighth block', '▁▁▁ three', 'a▁b', 'Ġ Ċ ĉ (GPT-2 byte symbols as text)', '<0x41> <0x0A>'];

// Where regex engines disagree: U+0085 is White_Space (\s in Rust, Oniguruma,
// PCRE2 with UCP) but not JavaScript \s; U+FEFF is JavaScript \s but not
// White_Space; U+180E is neither any more; 'ſ (U+017F case-folds to s) probes
// how (?i:'s|...) is compiled.
const regexEdge = ['x \u0085!', 'x\u0085!', '\u0085\u0085a', 'a\u0085b', 'a \u0085 b', ' \u0085', '!\u0085!',
  '\u0085\n\u0085', 'x \ufeff!', 'x\ufeff!', '\ufeff\ufeffa', ' \ufeff z', '\ufeff//', '\ufeff#include <x>',
  '\ufeff/*\n', '  \ufeff', ' \ufeffusing System;', 'x \u180e!', 'a\u180eb', "it'\u017f", "'\u017f x",
  "IT'\u017f", "it'\u017ft", 'x\u2028!', 'x\u00a0!', 'x \u3000!', '\u1680!', 'x \u2009\u2009!', '\u205f\u205fa'];

// Random strings over a mixed alphabet.
const alphabet = [
  [0x20, 0x7e], [0x20, 0x20], [0x61, 0x7a], [0x30, 0x39], [0x09, 0x0a], [0x0d, 0x0d], [0xa0, 0xff],
  [0x100, 0x17f], [0x391, 0x3c9], [0x410, 0x44f], [0x4e00, 0x9fff], [0x3041, 0x30ff], [0xac00, 0xd7a3],
  [0x1100, 0x11ff], [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x5d0, 0x5ea], [0x300, 0x36f],
  [0x2000, 0x206f], [0x3000, 0x303f], [0xff01, 0xff5e], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff],
  [0x1f1e6, 0x1f1ff], [0x1f3fb, 0x1f3ff], [0x200d, 0x200d], [0xfe0f, 0xfe0f], [0x2581, 0x2581],
  [0x20000, 0x2a6df], [0x1d400, 0x1d7ff], [0xe000, 0xe0ff], [0x01, 0x1f], [0x80, 0x9f], [0xfff0, 0xfffd],
];
function randomMixed() {
  let s = '';
  const n = int(1, 40);
  for (let i = 0; i < n; i++) s += randFromRanges(alphabet);
  return s;
}

function sharedCorpus() {
  const out = [];
  const add = (list) => out.push(...list);
  const gen = (n, f) => { for (let i = 0; i < n; i++) out.push(f()); };
  add(prose); gen(80, randomSentence);
  gen(20, () => `${randomSentence()} ${randomSentence()}`);
  add(code); gen(60, randomCodeLine);
  gen(15, () => Array.from({ length: int(2, 5) }, randomCodeLine).join('\n'));
  add(numbersFixed); gen(70, randomNumber);
  add(whitespaceFixed); gen(80, randomWhitespace);
  for (const [name, list] of Object.entries(scripts)) {
    add(list);
    if (ranges[name]) gen(15, () => randomScript(name));
  }
  add(emoji); gen(35, randomEmoji);
  add(nonNfc); gen(35, randomNonNfc);
  add(fullwidth);
  add(mixedFixed);
  gen(25, () => shuffle([randomSentence(), randomScript(pick(Object.keys(ranges))), randomEmoji(), randomNumber()])
    .join(pick([' ', '', '\n'])));
  add(contractionsFixed); gen(40, randomContraction);
  add(misc);
  add(regexEdge);
  gen(150, randomMixed);
  return out;
}

// ---------------------------------------------------------------------------
// Per-tokenizer strings: every special added token embedded in text, a sample
// of the non-special added tokens, near misses.
const contexts = [
  (t) => t, (t) => `Hello${t}world`, (t) => `Hello ${t} world`, (t) => `${t}Hello`, (t) => `text\n${t}\n`,
  (t) => `a${t}${t}b`, (t) => `  ${t}  `, (t) => `x ${t}`, (t) => `${t}\n\nNew document.`, (t) => `é${t}中`,
];
function addedTokenCases(tokenizerJson) {
  const out = [];
  const specials = tokenizerJson.added_tokens.filter((t) => t.special).map((t) => t.content);
  const nonSpecials = tokenizerJson.added_tokens.filter((t) => !t.special).map((t) => t.content);
  specials.forEach((tok, i) => {
    if (specials.length <= 20) for (const c of contexts) out.push(c(tok));
    else out.push(contexts[i % contexts.length](tok));
  });
  // Several specials in one string, and near misses that must stay text.
  for (let i = 0; i < Math.min(10, specials.length); i++) {
    out.push(Array.from({ length: int(2, 4) }, () => pick(specials) + pick(['', ' ', 'x', '\n'])).join(''));
    const s = pick(specials);
    out.push(s.slice(0, -1), s.slice(1), s.toUpperCase() === s ? s.toLowerCase() : s.toUpperCase(), `${s[0]} ${s.slice(1)}`);
  }
  // About 50 non-special added tokens: all when there are few, else a sample
  // that keeps every kind (Gemma: HTML tags, newline and ▁ runs, <unusedN>).
  let sample = nonSpecials;
  if (nonSpecials.length > 50) {
    const unused = nonSpecials.filter((t) => /^<unused\d+>$/.test(t));
    const rest = nonSpecials.filter((t) => !/^<unused\d+>$/.test(t));
    sample = [...unused.slice(0, 3), ...unused.slice(-2)];
    while (sample.length < 50) {
      const t = pick(rest);
      if (!sample.includes(t)) sample.push(t);
    }
  }
  for (const tok of sample) out.push(pick(contexts)(tok));
  return out;
}

function spaceRunCases() { // NeoX: runs of spaces are added tokens
  const out = [];
  for (let n = 1; n <= 30; n++) out.push(' '.repeat(n), `x${' '.repeat(n)}y`);
  out.push(' '.repeat(50), ' '.repeat(51) + 'end', 'a' + ' '.repeat(26) + 'b', 'a' + ' '.repeat(49) + 'b');
  for (let i = 0; i < 80; i++) {
    let s = '';
    const n = int(1, 6);
    for (let k = 0; k < n; k++) {
      s += ' '.repeat(int(0, 32));
      s += pick([pick(words), pick(identifiers), '\n', '\t', '\r\n', '\u00a0', 'e\u0301', '中', '😀', '.',
        '(', ')', '0', 'def f():', '{', '}', '# comment', '\n' + ' '.repeat(int(2, 12))]);
    }
    if (chance(0.3)) s += ' '.repeat(int(1, 30));
    out.push(s);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The NeoX-style tokenizer.json (recipe in the README).
function buildNeox() {
  const vocab = JSON.parse(readFileSync(join(gpt2Dir, 'vocab.json'), 'utf8'));
  const mergeLines = readFileSync(join(gpt2Dir, 'merges.txt'), 'utf8').split('\n');
  if (!mergeLines[0].startsWith('#version')) throw new Error('merges.txt: no #version line');
  const merges = mergeLines.slice(1).filter((l) => l.length > 0);
  if (vocab['<|endoftext|>'] !== 50256) throw new Error('vocab.json: <|endoftext|> is not 50256');
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const added = [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: true }];
  for (let n = 2; n <= 25; n++) {
    added.push({ id: 50257 + (n - 2), content: ' '.repeat(n), single_word: false, lstrip: false, rstrip: false,
      normalized: true, special: false });
  }
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  const config = { add_bos_token: false, add_eos_token: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' };
  mkdirSync(dirname(neoxOut), { recursive: true });
  writeFileSync(neoxOut, JSON.stringify(json));
  writeFileSync(join(dirname(neoxOut), 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  console.log(`neox: wrote ${neoxOut} (vocab ${Object.keys(vocab).length}, merges ${merges.length}, added ${added.length})`);
  return { json, config, path: neoxOut };
}

// ---------------------------------------------------------------------------
const names = ['gemma3', 'llama3', 'llama3_1', 'qwen3', 'llama2', 'neox'];
const shared = sharedCorpus();
const sharedSeedAfter = seed; // per-tokenizer parts start from the same PRNG state
const disagreementsOut = process.env.JS_DISAGREEMENTS_OUT ? [] : null;
mkdirSync(outDir, { recursive: true });
const summary = [];

const quiet = (f) => { // @lenml/tokenizers warns about the base class for neox
  const warn = console.warn;
  console.warn = () => {};
  try { return f(); } finally { console.warn = warn; }
};

for (const name of names) {
  let tokenizerJson, config, path;
  if (name === 'neox') {
    ({ json: tokenizerJson, config, path } = buildNeox());
  } else {
    path = join(tokDir, name, 'tokenizer.json');
    tokenizerJson = JSON.parse(readFileSync(path, 'utf8'));
    config = JSON.parse(readFileSync(join(tokDir, name, 'tokenizer_config.json'), 'utf8'));
  }
  const hf = Tokenizer.fromFile(path);
  if (name === 'neox') {
    for (const t of tokenizerJson.added_tokens) {
      if (hf.tokenToId(t.content) !== t.id) throw new Error(`neox: HF gives ${JSON.stringify(t.content)} id ${hf.tokenToId(t.content)}, not ${t.id}`);
    }
  }
  const js = quiet(() => TokenizerLoader.fromPreTrained({ tokenizerJSON: tokenizerJson, tokenizerConfig: config }));

  seed = sharedSeedAfter;
  const texts = [...shared, ...addedTokenCases(tokenizerJson), ...(name === 'neox' ? spaceRunCases() : [])];
  const seen = new Set();
  const lines = [];
  let disagree = 0, disagreeSpecialOnly = 0, skipped = 0;
  const examples = [];
  for (const raw of texts) {
    const text = clip(raw);
    if (seen.has(text)) continue;
    seen.add(text);
    // Only valid Unicode: the binding would turn a lone surrogate into U+FFFD.
    // No NUL either (C strings in the C++ test harness).
    if (!text.isWellFormed() || text.includes('\0')) { skipped++; continue; }
    const ids = (await hf.encode(text, null, { addSpecialTokens: false })).getIds();
    const idsSpecial = (await hf.encode(text, null, { addSpecialTokens: true })).getIds();
    const row = { text, ids, ids_special: idsSpecial };
    // What HF decodes the ids to (special tokens kept), where that is not the
    // text: normalizers (NFC, ▁ for space), Llama 2's ▁ after special tokens.
    const decoded = await hf.decode(ids, false);
    if (decoded !== text) row.decoded = decoded;
    lines.push(JSON.stringify(row));

    const jsIds = Array.from(js.encode(text, { add_special_tokens: false }));
    const jsIdsSpecial = Array.from(js.encode(text, { add_special_tokens: true }));
    const same = JSON.stringify(jsIds) === JSON.stringify(ids);
    const sameSpecial = JSON.stringify(jsIdsSpecial) === JSON.stringify(idsSpecial);
    if (!same || !sameSpecial) {
      disagree++;
      if (same) disagreeSpecialOnly++;
      const entry = { tokenizer: name, text, hf: ids, js: jsIds, hf_special: idsSpecial, js_special: jsIdsSpecial };
      if (examples.length < 8) examples.push(entry);
      if (disagreementsOut) disagreementsOut.push(JSON.stringify(entry));
    }
  }
  const file = join(outDir, `${name}_cases.jsonl`);
  const body = lines.join('\n') + '\n';
  writeFileSync(file, body);
  summary.push({ name, strings: lines.length, bytes: Buffer.byteLength(body), js_disagree: disagree,
    js_disagree_special_only: disagreeSpecialOnly, skipped });
  console.log(`${name}: ${lines.length} strings, ${Buffer.byteLength(body)} bytes; @lenml/tokenizers disagrees on ${disagree}` +
    (disagreeSpecialOnly ? ` (${disagreeSpecialOnly} only with special tokens added)` : '') + (skipped ? `; skipped ${skipped} invalid` : ''));
  for (const e of examples.slice(0, 3)) {
    console.log(`  ${JSON.stringify(e.text)}\n    HF ${JSON.stringify(e.hf)}\n    JS ${JSON.stringify(e.js)}`);
  }
}
if (disagreementsOut) writeFileSync(process.env.JS_DISAGREEMENTS_OUT, disagreementsOut.join('\n') + '\n');
console.log(JSON.stringify(summary));
