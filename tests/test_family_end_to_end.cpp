// Each model family end to end through saescope-cli: harvest and a feature
// page, SAE evaluation with CE loss, PS-Eval, training a small SAE, on the
// family fixtures (tests/fixtures/model/families) widened to GPT-2's
// vocabulary so the real GPT-2 tokenizer files can drive them (the families'
// own tokenizer.json readers are the tokenizer issue's).
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/polysemy/dataset_writers.h"
#include "core/sae/sae.h"
#include "core/sae/sae_folder.h"
#include "tests/cli_runner.h"
#include "tests/tiny_engine.h"

using namespace saescope;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kFamilies = std::string(SAESCOPE_FIXTURES_DIR) + "/model/families";
const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/family_end_to_end";
constexpr int64_t kVocab = 50257;

using cli_runner::Cli;
using cli_runner::q;
// Harvest, evaluation and training of a family each in one CLI call: up to 3 minutes.
Cli run_cli(const QStringList& args) { return cli_runner::run_cli(args, 180000); }

bool is_vocab_tensor(const std::string& name, int64_t rows) {
  const auto ends = [&](const char* e) {
    const std::string s(e);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return rows > 0 && (ends("embed_tokens.weight") || ends("embed_in.weight") || name == "embed_out.weight" ||
                      name == "lm_head.weight");
}

// The fixture with its embedding (and unembedding) widened to 50,257 rows,
// BOS/EOS at GPT-2's <|endoftext|>, and GPT-2's tokenizer files beside it.
std::string widened_model(const std::string& fixture) {
  const fs::path dir = fs::path(kOut) / fixture;
  fs::create_directories(dir);
  json config;
  std::ifstream(kFamilies + "/" + fixture + "/config.json") >> config;
  json& text = config.contains("text_config") ? config["text_config"] : config;
  const int64_t old_vocab = text["vocab_size"].get<int64_t>();
  text["vocab_size"] = kVocab;
  if (!config["bos_token_id"].is_null()) config["bos_token_id"] = kVocab - 1;
  config["eos_token_id"] = kVocab - 1;
  std::ofstream(dir / "config.json") << config.dump(2);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  at::manual_seed(7);
  for (const auto& e : fs::directory_iterator(kFamilies + "/" + fixture)) {
    if (e.path().extension() != ".safetensors") continue;
    const auto f = io::SafetensorsFile::open(e.path().string());
    for (const auto& info : f->tensors()) {
      at::Tensor t = f->tensor(info.name).to(at::kFloat);
      if (is_vocab_tensor(info.name, t.size(0)) && t.size(0) == old_vocab)
        t = at::cat({t, at::randn({kVocab - old_vocab, t.size(1)}) * t.std()}, 0);
      tensors.emplace_back(info.name, t.contiguous());
    }
  }
  io::write_safetensors((dir / "model.safetensors").string(), tensors);
  const std::string tok = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
  for (const char* f : {"vocab.json", "merges.txt"})
    fs::copy_file(tok + "/" + f, dir / f, fs::copy_options::overwrite_existing);
  return dir.string();
}

std::string standard_sae(const std::string& dir, const std::string& hook, int64_t d_in, uint64_t seed) {
  sae::SaeConfig cfg;
  cfg.architecture = sae::Architecture::Standard;
  cfg.d_in = d_in;
  cfg.d_sae = 64;
  cfg.meta.hook_name = hook;
  cfg.center_writing_weights = false;
  cfg.meta.model_from_pretrained_kwargs = {{"center_writing_weights", false}};
  at::manual_seed(seed);
  sae::SaeWeights w;
  w.W_enc = at::randn({d_in, 64}) * 0.5;
  w.W_dec = at::randn({64, d_in}) * 0.2;
  w.b_dec = at::zeros({d_in});
  w.b_enc = at::full({64}, -0.2f);
  sae::save_sae(sae::Sae(cfg, w, dir), dir);
  return dir;
}

std::string pairs_file(const std::string& path) {
  std::vector<polysemy::WordPair> pairs;
  const auto pair = [&](const char* a, const char* b, bool same) {
    polysemy::WordPair p;
    p.id = std::to_string(pairs.size());
    p.target_word = "bank";
    p.context_1 = a;
    p.context_2 = b;
    p.same_sense = same;
    pairs.push_back(p);
  };
  pair("They fished from the bank of the river.", "Reeds grew along the muddy bank.", true);
  pair("The bank raised its interest rates.", "He borrowed money from the bank.", true);
  pair("They fished from the bank of the river.", "The bank raised its interest rates.", false);
  pair("Reeds grew along the muddy bank.", "He borrowed money from the bank.", false);
  polysemy::write_pairs_jsonl(path, pairs);
  return path;
}

}  // namespace

class TestFamilyEndToEnd : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    corpus_ = tiny::write_corpus(kOut + "/corpus.txt", 60, 3);
    pairs_ = pairs_file(kOut + "/pairs.jsonl");
  }

  void harvestEvaluateScoreAndTrain_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("hook");
    QTest::addColumn<int>("width");
    QTest::newRow("gpt_neox") << "pythia" << "blocks.1.hook_resid_post" << 32;
    QTest::newRow("llama") << "llama3" << "model.layers.0.self_attn.o_proj.input" << 64;
    QTest::newRow("qwen3") << "qwen3" << "blocks.1.hook_mlp_out" << 32;
    QTest::newRow("gemma2") << "gemma2" << "blocks.1.hook_resid_post" << 48;
    QTest::newRow("gemma3") << "gemma3-multimodal" << "model.layers.1.post_feedforward_layernorm.output" << 32;
  }
  void harvestEvaluateScoreAndTrain() {
    QFETCH(QString, fixture);
    QFETCH(QString, hook);
    QFETCH(int, width);
    const std::string f = fixture.toStdString();
    const std::string model = widened_model(f);
    const std::string sae = standard_sae(kOut + "/" + f + "-sae", hook.toStdString(), width, 3);
    const std::string ws = kOut + "/" + f + ".saescope";

    const Cli h = run_cli({"harvest", "--workspace", q(ws), "--model", q(model), "--sae", q(sae), "--corpus",
                           q(corpus_), "--context", "16", "--tokens", "800", "--json"});
    QVERIFY2(h.code == 0, h.err.c_str());
    const Cli list = run_cli({"features", "--workspace", q(ws), "--sae", q(sae), "--sort", "density", "--limit",
                              "3", "--json"});
    QVERIFY2(list.code == 0, list.err.c_str());
    const json features = json::parse(list.out)["features"];
    QVERIFY(!features.empty());
    const Cli page = run_cli({"feature", "--workspace", q(ws), "--sae", q(sae), "--id",
                              q(std::to_string(features.at(0)["feature"].get<int64_t>())), "--json"});
    QVERIFY2(page.code == 0, page.err.c_str());
    QVERIFY2(!json::parse(page.out)["top_examples"].empty(), page.out.c_str());

    const Cli e = run_cli({"sae-eval", "--model", q(model), "--sae", q(sae), "--corpus", q(corpus_), "--context",
                           "16", "--tokens", "300", "--json"});
    QVERIFY2(e.code == 0, e.err.c_str());
    const json ev = json::parse(e.out);
    QVERIFY2(ev["ce_loss_clean"].get<double>() > 0 && ev["mse"].get<double>() > 0, e.out.c_str());

    const Cli p = run_cli({"ps-eval", "--model", q(model), "--sae", q(sae), "--dataset", q(pairs_), "--json"});
    QVERIFY2(p.code == 0, p.err.c_str());
    QVERIFY2(p.out.find("f1") != std::string::npos, p.out.c_str());

    const std::string trained = kOut + "/" + f + "-trained";
    const Cli t = run_cli({"train", "--model", q(model), "--hook", hook, "--corpus", q(corpus_), "--arch", "topk",
                           "--k", "4", "--d-sae", "32", "--context", "16", "--tokens", "600", "--batch", "32",
                           "--out", q(trained)});
    QVERIFY2(t.code == 0, t.err.c_str());
    const sae::Sae s = sae::load_sae(trained);
    QCOMPARE(s.d_in(), static_cast<int64_t>(width));
    QCOMPARE(QString::fromStdString(s.config().meta.hook_name), hook);
  }

 private:
  std::string corpus_, pairs_;
};

QTEST_GUILESS_MAIN(TestFamilyEndToEnd)
#include "test_family_end_to_end.moc"
