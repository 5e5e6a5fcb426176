// GPT-2 byte-level BPE: ids against an independent implementation, offsets,
// round trips, invalid UTF-8, both tokenizer.json merge forms, file errors, CLI.
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/common/error.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/byte_level_alphabet.h"
#include "core/tokenizer/utf8.h"

using namespace saescope;
using namespace saescope::tokenizer;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kGpt2Dir = fs::path(SAESCOPE_SHARED_DIR) / "data" / "gpt2-tokenizer";
const fs::path kFixtures = fs::path(SAESCOPE_FIXTURES_DIR) / "tokenizer";

struct Case {
  std::string text;
  std::vector<TokenId> ids;
  bool allow_special = false;
};

std::vector<Case> read_cases(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    cases.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<TokenId>>(),
                     j.value("allow_special", false)});
  }
  return cases;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

fs::path output_dir(const std::string& name) {
  const fs::path dir = fs::path(SAESCOPE_TEST_OUTPUT_DIR) / "tokenizer" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const BpeTokenizer& gpt2() {
  static const BpeTokenizer t =
      BpeTokenizer::from_vocab_and_merges(kGpt2Dir / "vocab.json", kGpt2Dir / "merges.txt");
  return t;
}

// GPT-2's tokenizer.json as HF writes it, with merges in either form.
json gpt2_tokenizer_json(bool merges_as_lists) {
  json merges = json::array();
  std::istringstream lines(read_text(kGpt2Dir / "merges.txt"));
  std::string line;
  std::getline(lines, line);  // #version
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    if (merges_as_lists)
      merges.push_back({line.substr(0, space), line.substr(space + 1)});
    else
      merges.push_back(line);
  }
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens",
           {{{"id", 50256}, {"content", "<|endoftext|>"}, {"single_word", false},
             {"lstrip", false}, {"rstrip", false}, {"normalized", true}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
            {"use_regex", true}}},
          {"post_processor", {{"type", "ByteLevel"}, {"trim_offsets", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
            {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
            {"byte_fallback", false}, {"vocab", json::parse(read_text(kGpt2Dir / "vocab.json"))},
            {"merges", merges}}}};
}

// A small valid tokenizer.json: the 256 byte tokens, "Ġt", "he", "Ġthe" and
// <|endoftext|>. Error tests break one field of it at a time.
json tiny_tokenizer_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_to_alphabet_utf8(static_cast<std::uint8_t>(b))] = b;
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  vocab["<|endoftext|>"] = 259;
  return {{"added_tokens", {{{"id", 259}, {"content", "<|endoftext|>"}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
          {"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"Ġ t", "h e", "Ġt he"}}}}};
}

fs::path write_json(const fs::path& file, const json& j) {
  write_text(file, j.dump());
  return file;
}

// Runs `load`, which must throw InputError whose message holds every part.
template <class F>
void expect_input_error(F load, std::initializer_list<std::string> parts) {
  try {
    load();
  } catch (const InputError& e) {
    const std::string message = e.what();
    for (const std::string& part : parts)
      QVERIFY2(message.find(part) != std::string::npos,
               ("message \"" + message + "\" lacks \"" + part + "\"").c_str());
    return;
  } catch (const std::exception& e) {
    QFAIL((std::string("expected InputError, got: ") + e.what()).c_str());
  }
  QFAIL("expected InputError, nothing was thrown");
}

// Offsets cover the text contiguously and each token's bytes are its slice.
void check_offsets(const BpeTokenizer& t, const std::string& text, const Encoding& e) {
  QCOMPARE(e.offsets.size(), e.ids.size());
  std::size_t pos = 0;
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    QCOMPARE(e.offsets[i].begin, pos);
    QVERIFY(e.offsets[i].end > e.offsets[i].begin);
    const std::string slice = text.substr(e.offsets[i].begin, e.offsets[i].end - e.offsets[i].begin);
    QCOMPARE(slice, t.token_string(e.ids[i]));
    pos = e.offsets[i].end;
  }
  QCOMPARE(pos, text.size());
}

QString ids_text(const std::vector<TokenId>& ids) {
  QStringList parts;
  for (TokenId id : ids) parts << QString::number(id);
  return parts.join(',');
}

std::pair<int, QByteArray> run_cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(SAESCOPE_CLI_PATH), args);
  if (!p.waitForFinished(60000)) return {-1, {}};
  return {p.exitCode(), p.readAllStandardOutput()};
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT
 private slots:
  void idsEqualIndependentImplementation_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("minimum");
    // gpt-tokenizer (r50k_base), every line also equal in tiktoken.
    QTest::newRow("gpt-tokenizer") << "gpt2_cases.jsonl" << 300;
    // tiktoken alone: U+0085/U+FEFF and <|endoftext|> as the special token.
    QTest::newRow("tiktoken") << "gpt2_tiktoken_cases.jsonl" << 20;
  }
  void idsEqualIndependentImplementation() {
    QFETCH(QString, file);
    QFETCH(int, minimum);
    const auto cases = read_cases(kFixtures / file.toStdString());
    QVERIFY(static_cast<int>(cases.size()) >= minimum);
    int mismatches = 0;
    for (const Case& c : cases) {
      const Encoding e = gpt2().encode(c.text, {c.allow_special});
      if (e.ids != c.ids) {
        ++mismatches;
        qWarning("%s: got %s, expected %s", json(c.text).dump().c_str(),
                 qPrintable(ids_text(e.ids)), qPrintable(ids_text(c.ids)));
      }
      QCOMPARE(gpt2().encode_ids(c.text, {c.allow_special}), e.ids);
      QCOMPARE(gpt2().decode(e.ids), c.text);
      check_offsets(gpt2(), c.text, e);
    }
    QCOMPARE(mismatches, 0);
  }

  void vocabularyFacts() {
    const BpeTokenizer& t = gpt2();
    QCOMPARE(t.vocab_size(), 50257);
    QCOMPARE(t.eot_id(), 50256);
    QVERIFY(t.is_special(50256));
    QVERIFY(!t.is_special(262));
    QCOMPARE(t.token_string(262), std::string(" the"));
    QCOMPARE(t.raw_token_string(262), std::string("Ġthe"));
    QCOMPARE(t.token_string(198), std::string("\n"));
    QCOMPARE(t.raw_token_string(198), std::string("Ċ"));
    QCOMPARE(t.token_string(50256), std::string("<|endoftext|>"));
    QCOMPARE(t.token_id("Ġthe").value_or(-1), 262);
    QVERIFY(!t.token_id("no such token").has_value());
    expect_input_error([&] { t.token_string(50257); }, {"50257", "vocab.json"});
    expect_input_error([&] { t.decode({15496, -1}); }, {"-1"});
  }

  void endOfTextIsSpecialOnlyWhenAllowed() {
    const std::string text = "a<|endoftext|>b";
    const Encoding plain = gpt2().encode(text);
    QVERIFY(std::find(plain.ids.begin(), plain.ids.end(), 50256) == plain.ids.end());
    const Encoding special = gpt2().encode(text, {true});
    QCOMPARE(special.ids, (std::vector<TokenId>{64, 50256, 65}));
    QCOMPARE(special.offsets[1], (ByteSpan{1, 14}));
    check_offsets(gpt2(), text, special);
  }

  // Each byte outside well-formed UTF-8 is its own byte token; the valid text
  // around it is encoded as if cut there; nothing is lost.
  void invalidUtf8BecomesByteTokens() {
    const BpeTokenizer& t = gpt2();
    const auto byte_id = [&](unsigned char b) {
      return t.token_id(byte_to_alphabet_utf8(b)).value();
    };
    const auto concat = [](std::vector<std::vector<TokenId>> parts) {
      std::vector<TokenId> all;
      for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
      return all;
    };
    QCOMPARE(t.encode_ids("hello\xFFworld"),
             concat({t.encode_ids("hello"), {byte_id(0xFF)}, t.encode_ids("world")}));
    // A character cut short: each of its bytes stands alone.
    QCOMPARE(t.encode_ids(" caf\xC3"), concat({t.encode_ids(" caf"), {byte_id(0xC3)}}));
    QCOMPARE(t.encode_ids("\xE2\x82 x"),
             concat({{byte_id(0xE2), byte_id(0x82)}, t.encode_ids(" x")}));
    // Overlong form, surrogate, above U+10FFFF: all invalid.
    for (const std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
      std::vector<TokenId> expected;
      for (unsigned char b : bad) expected.push_back(byte_id(b));
      QCOMPARE(t.encode_ids(bad), expected);
    }
    const std::string mixed = "ok \x80\x80 caf\xC3\xA9 \xF0\x9F\x98 end\xFE";
    QVERIFY(!is_valid_utf8(mixed));
    const Encoding e = t.encode(mixed);
    QCOMPARE(t.decode(e.ids), mixed);
    check_offsets(t, mixed, e);
  }

  // Whole megabyte-long pieces (one whitespace run, one word) encode exactly.
  void longPiecesEncode() {
    const BpeTokenizer& t = gpt2();
    const std::string spaces = std::string(1 << 20, ' ') + "a";
    const Encoding e = t.encode(spaces);
    QCOMPARE(t.decode(e.ids), spaces);
    check_offsets(t, spaces, e);
    // The run minus its last space is one piece, " a" the next one.
    QCOMPARE(e.ids.back(), t.token_id("Ġa").value());
    std::string word;
    for (int i = 0; i < 100000; ++i) word += "ab";
    const Encoding w = t.encode(word);
    QCOMPARE(t.decode(w.ids), word);
    QCOMPARE(w.ids.size(), std::size_t{100000});  // "ab" (397) each time
    QCOMPARE(w.ids.front(), 397);
  }

  void concurrentEncodesAgree() {
    const auto cases = read_cases(kFixtures / "gpt2_cases.jsonl");
    BpeTokenizer t =
        BpeTokenizer::from_vocab_and_merges(kGpt2Dir / "vocab.json", kGpt2Dir / "merges.txt");
    std::vector<int> wrong(2, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; ++k)
      threads.emplace_back([&, k] {
        for (int round = 0; round < 3; ++round)
          for (const Case& c : cases)
            if (t.encode_ids(c.text, {c.allow_special}) != c.ids) ++wrong[k];
      });
    for (auto& th : threads) th.join();
    QCOMPARE(wrong[0] + wrong[1], 0);
  }

  void tokenizerJsonMergeFormsMatchVocabAndMerges_data() {
    QTest::addColumn<bool>("lists");
    QTest::newRow("\"a b\" strings") << false;
    QTest::newRow("[\"a\",\"b\"] lists") << true;
  }
  void tokenizerJsonMergeFormsMatchVocabAndMerges() {
    QFETCH(bool, lists);
    const fs::path dir = output_dir(lists ? "json_lists" : "json_strings");
    write_json(dir / "tokenizer.json", gpt2_tokenizer_json(lists));
    const BpeTokenizer t = load_tokenizer(dir);
    QVERIFY(t.source().find("tokenizer.json") != std::string::npos);
    QCOMPARE(t.vocab_size(), 50257);
    QCOMPARE(t.eot_id(), 50256);
    auto cases = read_cases(kFixtures / "gpt2_cases.jsonl");
    for (const Case& c : read_cases(kFixtures / "gpt2_tiktoken_cases.jsonl")) cases.push_back(c);
    for (const Case& c : cases) {
      const Encoding e = t.encode(c.text, {c.allow_special});
      QCOMPARE(e.ids, gpt2().encode_ids(c.text, {c.allow_special}));
      QCOMPARE(e.ids, c.ids);
    }
    // Without its merges the same vocabulary gives other ids: the merges above
    // were really read.
    json no_merges = gpt2_tokenizer_json(lists);
    no_merges["model"]["merges"] = json::array();
    write_json(dir / "no_merges.json", no_merges);
    const BpeTokenizer bytes_only = BpeTokenizer::from_tokenizer_json(dir / "no_merges.json");
    QVERIFY(bytes_only.encode_ids("Hello world") != gpt2().encode_ids("Hello world"));
  }

  void loadTokenizerPicksWhatTheFolderHolds() {
    const BpeTokenizer from_files = load_tokenizer(kGpt2Dir);
    QVERIFY(from_files.source().find("merges.txt") != std::string::npos);
    QCOMPARE(from_files.encode_ids("Hello world"), (std::vector<TokenId>{15496, 995}));
    const fs::path tiny = output_dir("tiny");
    write_json(tiny / "tokenizer.json", tiny_tokenizer_json());
    const BpeTokenizer t = load_tokenizer(tiny);
    QCOMPARE(t.encode_ids(" the"), (std::vector<TokenId>{258}));
    QCOMPARE(t.encode_ids(" he"), (std::vector<TokenId>{' ', 257}));  // byte b has id b here
    const fs::path empty = output_dir("empty");
    expect_input_error([&] { load_tokenizer(empty); }, {empty.string(), "neither"});
    expect_input_error([&] { load_tokenizer(empty / "missing"); }, {"missing", "not a folder"});
  }

  void addedTokens() {
    json j = tiny_tokenizer_json();
    j["added_tokens"].push_back({{"id", 260}, {"content", "hello world"}, {"special", false}});
    const fs::path file = write_json(output_dir("added") / "tokenizer.json", j);
    const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(file);
    // Non-special added tokens are always cut out (as HF does); special ones
    // only on request.
    const std::vector<TokenId> ids = t.encode_ids("a hello world<|endoftext|>");
    QCOMPARE(ids[2], 260);
    QVERIFY(std::find(ids.begin(), ids.end(), 259) == ids.end());
    QCOMPARE(t.encode_ids("hello world<|endoftext|>", {true}), (std::vector<TokenId>{260, 259}));
    QCOMPARE(t.token_string(260), std::string("hello world"));
    QVERIFY(!t.is_special(260));
  }

  void ignoreMergesUsesWholeTokens() {
    json j = tiny_tokenizer_json();
    j["model"]["merges"] = json::array();
    const fs::path dir = output_dir("ignore_merges");
    const BpeTokenizer plain = BpeTokenizer::from_tokenizer_json(write_json(dir / "a.json", j));
    QCOMPARE(plain.encode_ids(" the").size(), std::size_t{4});
    j["model"]["ignore_merges"] = true;
    const BpeTokenizer whole = BpeTokenizer::from_tokenizer_json(write_json(dir / "b.json", j));
    QCOMPARE(whole.encode_ids(" the"), (std::vector<TokenId>{258}));
  }

  void vocabAndMergesErrors() {
    const fs::path dir = output_dir("merges_errors");
    const fs::path vocab = dir / "vocab.json";
    write_json(vocab, tiny_tokenizer_json()["model"]["vocab"]);
    const auto load_merges = [&](const std::string& merges) {
      write_text(dir / "merges.txt", merges);
      return BpeTokenizer::from_vocab_and_merges(vocab, dir / "merges.txt");
    };
    // The valid file loads, with or without its #version line.
    QCOMPARE(load_merges("#version: 0.2\nĠ t\nh e\nĠt he\n").encode_ids(" the"),
             (std::vector<TokenId>{258}));
    QCOMPARE(load_merges("Ġ t\r\nh e\r\nĠt he").encode_ids(" the"), (std::vector<TokenId>{258}));
    expect_input_error([&] { load_merges("#version: 0.2\nĠ t\nhe\n"); },
                       {"merges.txt line 3", "two tokens"});
    expect_input_error([&] { load_merges("#version: 0.2\nĠ  t\n"); }, {"line 2", "one space"});
    expect_input_error([&] { load_merges("h x\n"); }, {"line 1", "merged token \"hx\""});
    expect_input_error([&] { load_merges("h zz\n"); }, {"line 1", "right token \"zz\""});
    expect_input_error([&] { load_merges("zz h\n"); }, {"line 1", "left token \"zz\""});
    expect_input_error(
        [&] { BpeTokenizer::from_vocab_and_merges(dir / "nope.json", dir / "merges.txt"); },
        {"nope.json", "cannot open"});
    expect_input_error(
        [&] { BpeTokenizer::from_vocab_and_merges(vocab, dir / "nope.txt"); },
        {"nope.txt", "cannot open"});
    write_text(dir / "bad.json", "{\"a\": 1,");
    expect_input_error([&] { BpeTokenizer::from_vocab_and_merges(dir / "bad.json", vocab); },
                       {"bad.json", "not valid JSON"});
    const auto bad_vocab = [&](const json& v) {
      write_json(dir / "v.json", v);
      write_text(dir / "m.txt", "");
      return BpeTokenizer::from_vocab_and_merges(dir / "v.json", dir / "m.txt");
    };
    expect_input_error([&] { bad_vocab(json::array()); }, {"v.json", "object"});
    json v = tiny_tokenizer_json()["model"]["vocab"];
    expect_input_error([&] { json w = v; w["x"] = "7"; bad_vocab(w); }, {"\"x\"", "integer"});
    expect_input_error([&] { json w = v; w["x"] = -3; bad_vocab(w); }, {"\"x\"", "-3"});
    expect_input_error([&] { json w = v; w["x"] = 2097152; bad_vocab(w); }, {"\"x\"", "2097152"});
    expect_input_error([&] { json w = v; w["x"] = 257; bad_vocab(w); }, {"id 257", "\"he\""});
    expect_input_error([&] { json w = v; w[""] = 300; bad_vocab(w); }, {"empty string"});
    {  // Unused ids are allowed, and not tokens.
      json w = v;
      w["x"] = 400;
      const BpeTokenizer sparse = bad_vocab(w);
      QCOMPARE(sparse.vocab_size(), 401);
      QCOMPARE(sparse.token_string(400), std::string("x"));
      expect_input_error([&] { sparse.token_string(300); }, {"token id 300"});
    }
    expect_input_error([&] { json w = v; w.erase("Ġ"); bad_vocab(w); },
                       {"v.json", "byte 0x20", "not a GPT-2"});
  }

  void tokenizerJsonErrors_data() {
    // One field of the tiny tokenizer.json set to a bad value.
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown type") << "/model/type" << R"("WordPiece")" << "model.type is \"WordPiece\"";
    QTest::newRow("null type") << "/model/type" << "null" << "model.type is \"null\"";
    QTest::newRow("type not a string") << "/model/type" << "5" << "model.type is \"5\"";
    QTest::newRow("no model") << "/model" << "null" << "no \"model\"";
    QTest::newRow("unigram") << "/model/type" << R"("Unigram")" << "model.type is \"Unigram\"";
    QTest::newRow("normalizer") << "/normalizer" << R"({"type":"Precompiled"})"
                                << "normalizer: type \"Precompiled\" is not supported (supported: NFC";
    QTest::newRow("normalizer in sequence") << "/normalizer"
        << R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"BertNormalizer"}]})"
        << "type \"BertNormalizer\"";
    QTest::newRow("replace pattern") << "/normalizer" << R"({"type":"Replace","pattern":{"X":" "},"content":"_"})"
                                     << "pattern must be";
    QTest::newRow("pre_tokenizer") << "/pre_tokenizer/type" << R"("BertPreTokenizer")"
                                   << "pre_tokenizer: type \"BertPreTokenizer\" is not supported (supported: Split";
    QTest::newRow("split behavior") << "/pre_tokenizer"
        << R"({"type":"Split","pattern":{"String":" "},"behavior":"Sideways","invert":false})"
        << "behavior \"Sideways\"";
    QTest::newRow("split regex") << "/pre_tokenizer"
        << "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a\"},\"behavior\":\"Isolated\",\"invert\":false}"
        << "regex (a is not supported";
    QTest::newRow("metaspace scheme") << "/pre_tokenizer"
        << R"({"type":"Metaspace","replacement":"_","prepend_scheme":"sometimes"})" << "prepend_scheme";
    QTest::newRow("decoder") << "/decoder" << R"({"type":"WordPiece"})" << "decoder: type \"WordPiece\"";
    QTest::newRow("post_processor") << "/post_processor" << R"({"type":"Foo"})" << "post_processor: type \"Foo\"";
    QTest::newRow("template token") << "/post_processor"
        << R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]})"
        << "token \"<s>\" is not in the vocabulary";
    QTest::newRow("unk token") << "/model/unk_token" << R"("<unk>")" << "unk_token \"<unk>\" is not in the vocabulary";
    QTest::newRow("suffix") << "/model/end_of_word_suffix" << R"("</w>")" << "end_of_word_suffix";
    QTest::newRow("prefix") << "/model/continuing_subword_prefix" << R"("##")" << "continuing_subword_prefix";
    QTest::newRow("vocab not object") << "/model/vocab" << "null" << "model.vocab: expected a JSON object";
    QTest::newRow("no merges") << "/model/merges" << "null" << "model.merges is missing";
    QTest::newRow("merges object") << "/model/merges" << "{}" << "model.merges is missing";
    QTest::newRow("merge string") << "/model/merges" << R"(["h e", "Ġt"])" << "model.merges[1]: expected \"left right\"";
    QTest::newRow("merge list of 3") << "/model/merges" << R"([["h","e","x"]])" << "model.merges[0]: expected";
    QTest::newRow("merge number") << "/model/merges" << R"(["h e", 7])" << "model.merges[1]";
    QTest::newRow("merge unknown") << "/model/merges" << R"([["h","q"]])" << "merged token \"hq\"";
    QTest::newRow("added no id") << "/added_tokens/0" << R"({"content":"x"})" << "integer id and content";
    QTest::newRow("added id range") << "/added_tokens/0" << R"({"id":-5,"content":"x"})" << "out of range";
    QTest::newRow("added reuses id") << "/added_tokens/0" << R"({"id":257,"content":"x"})" << "reuses id 257";
    QTest::newRow("ignore_merges type") << "/model/ignore_merges" << R"("yes")" << "boolean";
  }
  void tokenizerJsonErrors() {
    QFETCH(QString, pointer);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    json j = tiny_tokenizer_json();
    j[json::json_pointer(pointer.toStdString())] = json::parse(value.toStdString());
    const fs::path file = write_json(output_dir("json_errors") / "tokenizer.json", j);
    expect_input_error([&] { BpeTokenizer::from_tokenizer_json(file); },
                       {file.string(), expected.toStdString()});
  }

  void tokenizerJsonFileErrors() {
    const fs::path dir = output_dir("json_file_errors");
    expect_input_error([&] { BpeTokenizer::from_tokenizer_json(dir / "tokenizer.json"); },
                       {"tokenizer.json", "cannot open"});
    write_text(dir / "tokenizer.json", "{\"model\": {\"type\": \"BPE\"");
    expect_input_error([&] { load_tokenizer(dir); }, {"tokenizer.json", "not valid JSON"});
  }

  void cliTokenizeJson() {
    const auto [code0, out0] = run_cli({"tokenize", "--model", QString::fromStdString(kGpt2Dir.string()),
                                        "--json", "Hello world<|endoftext|>"});
    QCOMPARE(code0, 0);  // as HF's encode(text, add_special_tokens=False)
    QCOMPARE(out0.trimmed(),
             QByteArray(R"({"ids":[15496,995,50256],"tokens":["Hello"," world","<|endoftext|>"],)"
                        R"("offsets":[[0,5],[5,11],[11,24]]})"));
    const auto [code, out] = run_cli({"tokenize", "--model", QString::fromStdString(kGpt2Dir.string()),
                                      "--json", "--special-as-text", "Hello world<|endoftext|>"});
    QCOMPARE(code, 0);
    QCOMPARE(out.trimmed(),
             QByteArray(R"({"ids":[15496,995,27,91,437,1659,5239,91,29],)"
                        R"("tokens":["Hello"," world","<","|","end","of","text","|",">"],)"
                        R"("offsets":[[0,5],[5,11],[11,12],[12,13],[13,16],[16,18],[18,22],[22,23],[23,24]]})"));
    const auto [code2, out2] =
        run_cli({"tokenize", "--model", QString::fromStdString(kGpt2Dir.string()), "--json",
                 "--allow-special", QString::fromUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80<|endoftext|>")});
    QCOMPARE(code2, 0);
    const QJsonObject doc = QJsonDocument::fromJson(out2).object();
    QCOMPARE(doc.keys(), (QStringList{"ids", "offsets", "tokens"}));
    const QJsonArray ids = doc["ids"].toArray();
    QCOMPARE(ids.last().toInt(), 50256);
    QCOMPARE(doc["tokens"].toArray().size(), ids.size());
    QCOMPARE(doc["offsets"].toArray().last().toArray(), (QJsonArray{10, 23}));
  }

  void cliTokenizeReadable() {
    const auto [code, out] =
        run_cli({"tokenize", "--model", QString::fromStdString(kGpt2Dir.string()), "Hello world"});
    QCOMPARE(code, 0);
    QVERIFY(out.contains("15496\t\"Hello\""));
    QVERIFY(out.contains("995\t\" world\""));
  }

  void cliTokenizeBadInputExitsTwo() {
    QCOMPARE(run_cli({"tokenize", "--model", "/no/such/model/dir", "text"}).first, 2);
    QCOMPARE(run_cli({"tokenize", "--model", QString::fromStdString(kGpt2Dir.string())}).first, 2);
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
