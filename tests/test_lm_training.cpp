// Language-model training (core/model/lm_*.h, `saescope-cli train-lm`): a tiny
// GPT-2 (1 layer, width 32) on a byte-level tokenizer of 257 tokens written
// here, so every run takes a second or two. Checks: the loss falls on
// repeated text, AdamW and clipping against hand-computed values, the LR
// schedule, batches that depend on (seed, step) only, pause/cancel/kill then
// resume giving bit-identical weights, the saved folder loading through
// Gpt2::load with the same logits, and a save killed mid-write (file-size
// limit) leaving the previous checkpoint intact.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <QProcess>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/model/lm_adamw.h"
#include "core/model/lm_batches.h"
#include "core/model/lm_checkpoint.h"
#include "core/model/lm_training.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/byte_level_alphabet.h"

namespace fs = std::filesystem;
using namespace saescope;
using namespace saescope::model;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/lm_training";

std::string fresh(const std::string& name) {
  const std::string dir = kOut + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Byte-level BPE without merges: ids 0..255 are bytes, 256 is <|endoftext|>.
const std::string& tiny_tokenizer_dir() {
  static const std::string dir = [] {
    const std::string d = fresh("tokenizer");
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b)
      vocab[tokenizer::byte_to_alphabet_utf8(static_cast<uint8_t>(b))] = b;
    vocab["<|endoftext|>"] = 256;
    std::ofstream(d + "/vocab.json") << vocab.dump();
    std::ofstream(d + "/merges.txt") << "#version: 0.2\n";
    std::ofstream(d + "/LICENSE") << "test tokenizer, no rights reserved\n";
    return d;
  }();
  return dir;
}

const tokenizer::BpeTokenizer& tiny_tokenizer() {
  static const tokenizer::BpeTokenizer tok = tokenizer::load_tokenizer(tiny_tokenizer_dir());
  return tok;
}

std::string write_corpus(const std::string& path, const std::vector<std::string>& docs) {
  std::ofstream out(path);
  for (const auto& d : docs) out << nlohmann::json({{"text", d}}).dump() << "\n";
  return path;
}

const std::string& repeated_corpus() {
  static const std::string path = [] {
    std::vector<std::string> docs(40, "the quick brown fox jumps over the lazy dog. ");
    for (auto& d : docs) d += d;
    return write_corpus(fresh("corpus") + "/repeated.jsonl", docs);
  }();
  return path;
}

LmTrainOptions tiny_options(const std::string& out) {
  LmTrainOptions o;
  o.config.n_layer = 1;
  o.config.d_model = 32;
  o.config.n_head = 2;
  o.config.d_head = 16;
  o.config.d_mlp = 128;
  o.config.n_positions = 16;
  o.config.vocab_size = 257;
  o.config.bos_token_id = o.config.eos_token_id = 256;
  o.context = 16;
  o.batch = 8;
  o.steps = 12;
  o.lr = 1e-2;
  o.checkpoint_every = 4;
  o.valid_every = 4;
  o.valid_windows = 8;
  o.save_dtype = at::kFloat;
  o.out_dir = out;
  o.data_id = "repeated";
  return o;
}

TokenStream stream() { return tokenize_corpus(repeated_corpus(), tiny_tokenizer()); }

LmTrainResult train(const LmTrainOptions& o, jobs::ProgressSink* sink = nullptr) {
  jobs::ProgressSink quiet;
  const TokenStream s = stream();
  return train_lm(s, s, o, sink ? *sink : quiet);
}

// Largest absolute difference between two sets of weights (HF order).
double weight_diff(const Gpt2Weights& a, const Gpt2Weights& b) {
  const auto na = hf_named_tensors(a), nb = hf_named_tensors(b);
  double worst = 0;
  for (size_t i = 0; i < na.size(); ++i)
    worst = std::max(worst, (na[i].second - nb[i].second).abs().max().item<double>());
  return worst;
}

struct Cli {
  int code = -1;
  bool crashed = false;
  std::string out, err;
};

Cli run_cli(const QStringList& args, const QString& shell_prefix = {}) {
  QProcess p;
  if (shell_prefix.isEmpty()) {
    p.start(QStringLiteral(SAESCOPE_CLI_PATH), args);
  } else {  // sh -c 'PREFIX; exec "$0" "$@"' CLI ARGS...
    QStringList sh_args{QStringLiteral("-c"), shell_prefix + QStringLiteral("; exec \"$0\" \"$@\""),
                        QStringLiteral(SAESCOPE_CLI_PATH)};
    p.start(QStringLiteral("/bin/sh"), sh_args + args);
  }
  p.waitForFinished(120000);
  Cli r;
  r.crashed = p.exitStatus() == QProcess::CrashExit;
  r.code = p.exitCode();
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

QStringList cli_train_args(const std::string& out) {
  return {"--threads",
          "1",
          "train-lm",
          "--corpus",
          QString::fromStdString(repeated_corpus()),
          "--tokenizer",
          QString::fromStdString(tiny_tokenizer_dir()),
          "--layers",
          "1",
          "--width",
          "32",
          "--heads",
          "2",
          "--context",
          "16",
          "--batch",
          "8",
          "--steps",
          "8",
          "--lr",
          "1e-2",
          "--checkpoint-every",
          "4",
          "--valid-every",
          "4",
          "--valid-windows",
          "4",
          "--save-dtype",
          "float32",
          "--out",
          QString::fromStdString(out)};
}

}  // namespace

class TestLmTraining : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { at::set_num_threads(1); }  // tiny ops: threads only add waiting

  void corpusBecomesOneStreamWithEndOfText() {
    const std::string path = write_corpus(fresh("stream") + "/c.jsonl", {"ab", "", "c"});
    const TokenStream one = tokenize_corpus(path, tiny_tokenizer(), 1);
    QCOMPARE(one.ids, (std::vector<int32_t>{'a', 'b', 256, 256, 'c', 256}));
    QCOMPARE(one.documents, int64_t(3));
    // Threads split the documents; the stream is the same.
    QCOMPARE(tokenize_corpus(path, tiny_tokenizer(), 3).ids, one.ids);
  }

  void badCorpusLinesAreNamed() {
    const std::string dir = fresh("bad_corpus");
    std::ofstream(dir + "/a.jsonl") << "{\"text\": \"fine\"}\n\nnot json\n";
    std::ofstream(dir + "/b.jsonl") << "{\"body\": \"no text\"}\n";
    std::ofstream(dir + "/c.jsonl") << "\n\n";
    for (const auto& [file, needle] :
         std::vector<std::pair<std::string, std::string>>{{"a.jsonl", "line 3 is not JSON"},
                                                          {"b.jsonl", "line 1 has no string field"},
                                                          {"c.jsonl", "holds no document"}}) {
      try {
        tokenize_corpus(dir + "/" + file, tiny_tokenizer());
        QFAIL(("no error for " + file).c_str());
      } catch (const InputError& e) {
        const std::string msg = e.what();
        QVERIFY2(msg.find(file) != std::string::npos && msg.find(needle) != std::string::npos,
                 msg.c_str());
      }
    }
  }

  void windowsDependOnSeedAndStepOnly() {
    const TokenStream s = stream();
    const at::Tensor a = random_windows(s, 4, 16, 7, 3);
    QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{4, 17}));
    QVERIFY(a.equal(random_windows(s, 4, 16, 7, 3)));
    QVERIFY(!a.equal(random_windows(s, 4, 16, 7, 4)));
    QVERIFY(!a.equal(random_windows(s, 4, 16, 8, 3)));
    // A window is a contiguous run of the stream.
    bool found = false;
    const auto row = a[0];
    for (size_t start = 0; start + 17 <= s.ids.size() && !found; ++start) {
      bool same = true;
      for (int64_t t = 0; t < 17 && same; ++t) same = s.ids[start + t] == row[t].item<int64_t>();
      found = same;
    }
    QVERIFY(found);
    const at::Tensor v = spaced_windows(s, 5, 16);
    QCOMPARE(v.size(0), int64_t(5));
    QCOMPARE(v[0][0].item<int64_t>(), int64_t(s.ids[0]));
    TokenStream tiny;
    tiny.ids = {1, 2, 3};
    tiny.source = "tiny";
    QVERIFY_EXCEPTION_THROWN(random_windows(tiny, 1, 16, 0, 0), InputError);
  }

  void adamwMatchesHandComputedSteps() {
    // p = 1, g = 0.5, lr 0.1, weight decay 0.1, betas (0.9, 0.95): bias
    // correction makes each step move by lr exactly; decay shrinks p first.
    at::Tensor decayed = at::ones({1}).requires_grad_(true);
    at::Tensor plain = at::ones({1}).requires_grad_(true);
    AdamW opt({decayed, plain}, {true, false}, AdamWOptions{0.9, 0.95, 0.0, 0.1});
    for (const double expected_decayed : {0.89, 0.7811}) {
      decayed.mutable_grad() = at::full({1}, 0.5);
      plain.mutable_grad() = at::full({1}, 0.5);
      opt.step(0.1);
      QVERIFY(std::abs(decayed.item<double>() - expected_decayed) < 1e-6);
    }
    QVERIFY(std::abs(plain.item<double>() - 0.8) < 1e-6);
    QCOMPARE(opt.steps(), int64_t(2));
    QVERIFY(std::abs(opt.first_moments()[0].item<double>() - 0.095) < 1e-6);
    QVERIFY(std::abs(opt.second_moments()[0].item<double>() - 0.024375) < 1e-6);
  }

  void clippingScalesToTheMaximumNorm() {
    at::Tensor a = at::zeros({1}).requires_grad_(true), b = at::zeros({1}).requires_grad_(true);
    a.mutable_grad() = at::full({1}, 3.0);
    b.mutable_grad() = at::full({1}, 4.0);
    QVERIFY(std::abs(clip_grad_norm({a, b}, 1.0) - 5.0) < 1e-6);
    QVERIFY(std::abs(a.grad().item<double>() - 0.6) < 1e-5);
    QVERIFY(std::abs(b.grad().item<double>() - 0.8) < 1e-5);
    clip_grad_norm({a, b}, 10.0);  // under the maximum: unchanged
    QVERIFY(std::abs(a.grad().item<double>() - 0.6) < 1e-5);
  }

  void learningRateWarmsUpThenFollowsTheCosine() {
    LmTrainOptions o;
    o.steps = 110;
    o.lr = 1.0;
    o.warmup_steps = 10;
    QVERIFY(std::abs(lm_learning_rate(o, 0) - 0.1) < 1e-12);
    QVERIFY(std::abs(lm_learning_rate(o, 9) - 1.0) < 1e-12);
    QVERIFY(std::abs(lm_learning_rate(o, 10) - 1.0) < 1e-12);
    QVERIFY(std::abs(lm_learning_rate(o, 60) - 0.55) < 1e-12);  // half-way: (1 + 0.1) / 2
    QVERIFY(std::abs(lm_learning_rate(o, 110) - 0.1) < 1e-12);  // the end: lr / 10
  }

  void overfitsRepeatedText() {
    LmTrainOptions o = tiny_options(fresh("overfit"));
    o.steps = 150;
    o.valid_every = 150;
    o.checkpoint_every = 0;
    const LmTrainResult r = train(o);
    QVERIFY(r.finished);
    // ln(257) = 5.55 at the start; the text is 45 bytes repeated.
    qInfo("loss after %lld steps: train %.3f, valid %.3f", static_cast<long long>(r.step),
          r.train_loss, r.valid_loss);
    QVERIFY2(r.valid_loss < 1.0, std::to_string(r.valid_loss).c_str());
    const auto info = nlohmann::json::parse(std::ifstream(o.out_dir + "/training.json"));
    QCOMPARE(info["step"].get<int64_t>(), int64_t(150));
    QVERIFY(info["finished"].get<bool>());
  }

  void resumeGivesTheUninterruptedWeights() {
    const LmTrainResult whole = train(tiny_options(fresh("whole")));
    QCOMPARE(whole.step, int64_t(12));

    // Paused at step 6, then resumed.
    LmTrainOptions paused = tiny_options(fresh("paused"));
    paused.pause_at_step = 6;
    const LmTrainResult first = train(paused);
    QCOMPARE(first.stopped_because, std::string("paused"));
    QCOMPARE(first.step, int64_t(6));
    paused.pause_at_step = 0;
    paused.resume = true;
    const LmTrainResult second = train(paused);
    QCOMPARE(second.resumed_from, int64_t(6));
    QVERIFY(second.finished);
    QCOMPARE(weight_diff(second.weights, whole.weights), 0.0);

    // "Killed" at step 10 (cancelled without saving): resumes from step 8.
    for (const bool save_on_cancel : {false, true}) {
      LmTrainOptions o = tiny_options(fresh(save_on_cancel ? "cancelled" : "killed"));
      o.checkpoint_on_cancel = save_on_cancel;
      jobs::CancelFlag flag;
      jobs::ProgressSink sink(
          [&](const jobs::Progress& p, double, double) {
            if (p.done >= 10 * 8 * 16) flag.cancel();
          },
          &flag);
      QVERIFY_EXCEPTION_THROWN(train(o, &sink), Cancelled);
      o.resume = true;
      const LmTrainResult resumed = train(o);
      QCOMPARE(resumed.resumed_from, int64_t(save_on_cancel ? 10 : 8));
      QCOMPARE(weight_diff(resumed.weights, whole.weights), 0.0);
    }

    // Resuming a finished training does nothing more.
    LmTrainOptions again = tiny_options(kOut + "/whole");
    again.resume = true;
    const LmTrainResult done = train(again);
    QCOMPARE(done.resumed_from, int64_t(12));
    QVERIFY(done.finished);
  }

  void badOptionsAreRefused_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("needle");
    QTest::newRow("no output folder") << 0 << "output folder";
    QTest::newRow("no steps") << 1 << "must be positive";
    QTest::newRow("context beyond n_positions") << 2 << "exceeds n_positions";
    QTest::newRow("width not a multiple of heads") << 3 << "not a multiple";
    QTest::newRow("zero learning rate") << 4 << "learning rate";
    QTest::newRow("BOS outside the vocabulary") << 5 << "BOS/EOS";
    QTest::newRow("token outside the vocabulary") << 6 << "outside the model's";
  }
  void badOptionsAreRefused() {
    QFETCH(int, which);
    QFETCH(QString, needle);
    LmTrainOptions o = tiny_options(fresh("bad_options"));
    switch (which) {
      case 0:
        o.out_dir.clear();
        break;
      case 1:
        o.steps = 0;
        break;
      case 2:
        o.context = 32;
        break;
      case 3:
        o.config.n_head = 3;
        break;
      case 4:
        o.lr = 0;
        break;
      case 5:
        o.config.bos_token_id = 257;
        break;
      case 6:  // bytes of the text go up to 'z' = 122
        o.config.vocab_size = 100;
        o.config.bos_token_id = o.config.eos_token_id = 99;
        break;
    }
    try {
      train(o);
      QFAIL("no error");
    } catch (const InputError& e) {
      QVERIFY2(QString(e.what()).contains(needle), e.what());
    }
  }

  void divergingLossStopsWithAnError() {
    LmTrainOptions o = tiny_options(fresh("diverge"));
    o.lr = 1e30;
    o.warmup_steps = 0;
    try {
      train(o);
      QFAIL("no error for a diverging loss");
    } catch (const InternalError& e) {
      QVERIFY2(std::string(e.what()).find("the loss is") != std::string::npos, e.what());
    }
  }

  void tokenizerWithoutEndOfTextIsRefused() {
    const std::string dir = fresh("no_eot_tokenizer");
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b)
      vocab[tokenizer::byte_to_alphabet_utf8(static_cast<uint8_t>(b))] = b;
    std::ofstream(dir + "/vocab.json") << vocab.dump();
    std::ofstream(dir + "/merges.txt") << "#version: 0.2\n";
    const auto tok = tokenizer::load_tokenizer(dir);
    QVERIFY_EXCEPTION_THROWN(tokenize_corpus(repeated_corpus(), tok), InputError);
  }

  void stateOfAnotherModelIsRefused() {
    const std::string path = fresh("other_state") + "/training_state.safetensors";
    LmTrainingState state;
    state.params = {{"wte.weight", at::zeros({4, 2})}};
    state.first_moments = state.second_moments = {at::zeros({4, 2})};
    state.info = {{"trajectory", nlohmann::json::object()}};
    save_training_state(path, state);
    QCOMPARE(load_training_state(path, {"wte.weight"}).params.size(), size_t(1));
    try {
      load_training_state(path, {"wte.weight", "wpe.weight"});
      QFAIL("no error for a missing tensor");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("param/wpe.weight") != std::string::npos, e.what());
    }
  }

  void resumeRefusesOtherSettings() {
    LmTrainOptions o = tiny_options(fresh("refuse"));
    o.pause_at_step = 4;
    train(o);
    o.pause_at_step = 0;
    try {
      train(o);  // no --resume: the state is not overwritten
      QFAIL("no error without resume");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("--resume") != std::string::npos, e.what());
    }
    o.resume = true;
    o.lr = 2e-2;
    try {
      train(o);
      QFAIL("no error for a changed learning rate");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("lr") != std::string::npos, e.what());
    }
    o.lr = 1e-2;
    o.data_id = "other data";
    QVERIFY_EXCEPTION_THROWN(train(o), InputError);
  }

  void savedFolderLoadsWithTheTrainingLogits() {
    LmTrainOptions o = tiny_options(fresh("saved32"));
    o.tokenizer_dir = tiny_tokenizer_dir();
    const LmTrainResult r = train(o);
    const Gpt2 trained(o.config, r.weights);
    const auto loaded = Gpt2::load(o.out_dir);
    const at::Tensor ids = random_windows(stream(), 2, 16, 99, 0).slice(1, 0, 16);
    const auto logits = [&](const Gpt2& m) {
      c10::InferenceMode inference;
      return m.forward(ids, {{"logits"}, {}}).hooks.at("logits");
    };
    const at::Tensor want = logits(trained);
    const at::Tensor got = logits(*loaded);
    QCOMPARE((want - got).abs().max().item<double>(), 0.0);
    // The folder is a complete HF GPT-2: its tokenizer and licence came along.
    QCOMPARE(tokenizer::load_tokenizer(o.out_dir).vocab_size(), 257);
    QVERIFY(fs::exists(o.out_dir + "/LICENSE"));
    const auto config = nlohmann::json::parse(std::ifstream(o.out_dir + "/config.json"));
    QCOMPARE(config["torch_dtype"].get<std::string>(), std::string("float32"));
    QCOMPARE(io::SafetensorsFile::open(o.out_dir + "/model.safetensors")->metadata().at("format"),
             std::string("pt"));

    // float16 (what ships): the same model within half precision.
    LmTrainOptions half = tiny_options(fresh("saved16"));
    half.save_dtype = at::kHalf;
    train(half);
    const auto loaded16 = Gpt2::load(half.out_dir);
    QCOMPARE(
        io::SafetensorsFile::open(half.out_dir + "/model.safetensors")->info("wte.weight").dtype,
        std::string("F16"));
    const at::Tensor got16 = logits(*loaded16);
    const double diff = (want - got16).abs().max().item<double>();
    QVERIFY2(diff > 0 && diff < 0.05, std::to_string(diff).c_str());
  }

  void gpt2TokenizerGetsOpenAiLicence() {
    const std::string gpt2 = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
    if (!fs::exists(gpt2 + "/vocab.json")) QSKIP("shared/data/gpt2-tokenizer is missing");
    const std::string out = fresh("gpt2_licence");
    const auto written = copy_tokenizer_files(gpt2, out);
    QVERIFY(std::find(written.begin(), written.end(), "TOKENIZER_LICENSE.txt") != written.end());
    std::ifstream in(out + "/TOKENIZER_LICENSE.txt");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    QVERIFY(text.find("Copyright (c) 2019 OpenAI") != std::string::npos);
    QCOMPARE(sha256_file(out + "/vocab.json"), sha256_file(gpt2 + "/vocab.json"));
    // Another tokenizer does not get OpenAI's notice.
    const std::string other = fresh("tiny_licence");
    copy_tokenizer_files(tiny_tokenizer_dir(), other);
    QVERIFY(!fs::exists(other + "/TOKENIZER_LICENSE.txt"));
  }

  void cliFailedSaveKeepsThePreviousCheckpoint() {
    const std::string whole = fresh("cli_whole"), killed = fresh("cli_killed");
    const Cli ref = run_cli(cli_train_args(whole));
    QVERIFY2(ref.code == 0, ref.err.c_str());

    QStringList pause_args = cli_train_args(killed);
    pause_args << "--pause-at-step"
               << "4";
    const Cli paused = run_cli(pause_args);
    QVERIFY2(paused.code == 0, paused.err.c_str());
    const std::string state_sha = sha256_file(killed + "/training_state.safetensors");
    const std::string model_sha = sha256_file(killed + "/model.safetensors");

    // Resumed under a 40 KiB file-size limit: the step-8 save of the 90 KB
    // model.safetensors fails half-way through its write (saescope-cli ignores
    // SIGXFSZ, so the write fails with EFBIG as on a full disk): exit 2 naming
    // the file, and the previous checkpoint is kept whole.
    QStringList resume_args = cli_train_args(killed);
    resume_args << "--resume";
    const Cli dead = run_cli(resume_args, QStringLiteral("ulimit -c 0; ulimit -f 40"));
    QVERIFY2(!dead.crashed && dead.code == 2, ("the save did not fail by name: " + dead.err).c_str());
    QVERIFY2(dead.err.find("model.safetensors") != std::string::npos, dead.err.c_str());
    QCOMPARE(sha256_file(killed + "/training_state.safetensors"), state_sha);
    QCOMPARE(sha256_file(killed + "/model.safetensors"), model_sha);
    QCOMPARE(Gpt2::load(killed)->config().d_model, int64_t(32));

    const Cli resumed = run_cli(resume_args);
    QVERIFY2(resumed.code == 0, resumed.err.c_str());
    QVERIFY2(resumed.err.find("resumed at step 4") != std::string::npos, resumed.err.c_str());
    QCOMPARE(sha256_file(killed + "/model.safetensors"), sha256_file(whole + "/model.safetensors"));
  }

  void cliBadInputExitsTwo() {
    const std::string out = fresh("cli_bad");
    QStringList args = cli_train_args(out);
    args[args.indexOf("--heads") + 1] = "3";  // 32 is not a multiple of 3
    const Cli bad_heads = run_cli(args);
    QCOMPARE(bad_heads.code, 2);
    QVERIFY2(bad_heads.err.find("--heads") != std::string::npos, bad_heads.err.c_str());

    const std::string corpus = fresh("cli_bad_corpus") + "/broken.jsonl";
    std::ofstream(corpus) << "{\"text\": 1}\n";
    args = cli_train_args(out);
    args[args.indexOf("--corpus") + 1] = QString::fromStdString(corpus);
    const Cli bad_corpus = run_cli(args);
    QCOMPARE(bad_corpus.code, 2);
    QVERIFY2(bad_corpus.err.find("broken.jsonl: line 1") != std::string::npos,
             bad_corpus.err.c_str());

    for (const auto& [option, value] : std::vector<std::pair<QString, QString>>{
             {"--save-dtype", "int8"}, {"--valid-fraction", "1.5"}}) {
      args = cli_train_args(out);
      const int at = args.indexOf(option);
      if (at >= 0)
        args[at + 1] = value;
      else
        args << option << value;
      const Cli bad = run_cli(args);
      QCOMPARE(bad.code, 2);
      QVERIFY2(QString::fromStdString(bad.err).contains(option), bad.err.c_str());
    }

    const Cli count = run_cli({"train-lm", "--count-tokens", "--corpus",
                               QString::fromStdString(repeated_corpus()), "--tokenizer",
                               QString::fromStdString(tiny_tokenizer_dir())});
    QCOMPARE(count.code, 0);
    QCOMPARE(nlohmann::json::parse(count.out)["tokens"].get<int64_t>(),
             static_cast<int64_t>(stream().ids.size()));
  }
};

QTEST_GUILESS_MAIN(TestLmTraining)
#include "test_lm_training.moc"
