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

// A sparsify hookpoint folder (cfg.json + sae.safetensors) as sparsify saves
// it: a top-k SAE, or a transcoder (reading the module's input), with a zero
// decoder when asked (it then reconstructs nothing but b_dec = 0).
std::string sparsify_folder(const std::string& dir, int64_t d, bool transcode, bool zero_decoder, uint64_t seed) {
  fs::create_directories(dir);
  const int64_t n = 64;
  std::ofstream(dir + "/cfg.json") << json{{"activation", "topk"}, {"expansion_factor", 1}, {"normalize_decoder", true},
                                           {"num_latents", n}, {"k", 8}, {"multi_topk", false},
                                           {"skip_connection", false}, {"transcode", transcode}, {"d_in", d}}
                                          .dump();
  at::manual_seed(seed);
  io::write_safetensors(dir + "/sae.safetensors",
                        {{"encoder.weight", at::randn({n, d}) * 0.5}, {"encoder.bias", at::zeros({n})},
                         {"W_dec", zero_decoder ? at::zeros({n, d}) : at::randn({n, d}) * 0.2}, {"b_dec", at::zeros({d})}});
  return dir;
}

// A Gemma Scope 2 affine skip transcoder folder (params.safetensors + config.json).
std::string gemma_scope_2_transcoder(const std::string& root, int64_t layer, int64_t d, uint64_t seed) {
  const std::string dir = root + "/transcoder_all/layer_" + std::to_string(layer) + "_width_16k_l0_small_affine";
  fs::create_directories(dir);
  const std::string l = "model.layers." + std::to_string(layer);
  std::ofstream(dir + "/config.json") << json{{"hf_hook_point_in", l + ".pre_feedforward_layernorm.output"},
                                              {"hf_hook_point_out", l + ".post_feedforward_layernorm.output"},
                                              {"width", 64}, {"model_name", "google/gemma-3-test"},
                                              {"architecture", "jump_relu"}, {"l0", 8},
                                              {"affine_connection", true}, {"type", "transcoder"}}
                                             .dump();
  at::manual_seed(seed);
  io::write_safetensors(dir + "/params.safetensors",
                        {{"affine_skip_connection", at::randn({d, d}) * 0.1}, {"b_dec", at::zeros({d})},
                         {"b_enc", at::zeros({64})}, {"threshold", at::full({64}, 0.05f)},
                         {"w_dec", at::randn({64, d}) * 0.2}, {"w_enc", at::randn({d, 64}) * 0.5}});
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

  // SAEs in release layouts on the families they are made for, through
  // harvest, the feature page, sae-eval and PS-Eval; a transcoder is measured
  // where it writes.
  void releaseLayoutsAndTranscoders() {
    const std::string llama = widened_model("llama3");
    const std::string gemma = widened_model("gemma3-multimodal");
    const std::string sae = sparsify_folder(kOut + "/sparsify/layers.1", 48, false, false, 11);
    const std::string tc = sparsify_folder(kOut + "/sparsify-tc/layers.0.mlp", 48, true, false, 12);
    const std::string gs2 = gemma_scope_2_transcoder(kOut + "/gemma-scope-2-test", 1, 32, 13);
    for (const auto& [model, path] : {std::pair{llama, sae}, {llama, tc}, {gemma, gs2}}) {
      const std::string ws = kOut + "/release-" + fs::path(path).filename().string() + ".saescope";
      const Cli h = run_cli({"harvest", "--workspace", q(ws), "--model", q(model), "--sae", q(path), "--corpus",
                             q(corpus_), "--context", "16", "--tokens", "600", "--json"});
      QVERIFY2(h.code == 0, (path + ": " + h.err).c_str());
      const Cli list = run_cli({"features", "--workspace", q(ws), "--sae", q(path), "--limit", "2", "--json"});
      QVERIFY2(list.code == 0, list.err.c_str());
      const json features = json::parse(list.out)["features"];
      QVERIFY2(!features.empty(), list.out.c_str());
      const Cli page = run_cli({"feature", "--workspace", q(ws), "--sae", q(path), "--id",
                                q(std::to_string(features.at(0)["feature"].get<int64_t>())), "--json"});
      QVERIFY2(page.code == 0 && !json::parse(page.out)["top_examples"].empty(), (page.out + page.err).c_str());
      const Cli e = run_cli({"sae-eval", "--model", q(model), "--sae", q(path), "--corpus", q(corpus_), "--context",
                             "16", "--tokens", "200", "--json"});
      QVERIFY2(e.code == 0, (path + ": " + e.err).c_str());
      QVERIFY2(json::parse(e.out)["mse"].get<double>() > 0, e.out.c_str());
      const Cli p = run_cli({"ps-eval", "--model", q(model), "--sae", q(path), "--dataset", q(pairs_), "--json"});
      QVERIFY2(p.code == 0 && p.out.find("f1") != std::string::npos, (path + ": " + p.err).c_str());
    }

    // With a zero decoder a transcoder reconstructs nothing where it writes:
    // the MSE of a zero SAE on its output hook, not on its input hook, and the
    // CE loss of zero-ablating its output hook.
    const std::string zero_tc = sparsify_folder(kOut + "/zero-tc/layers.0.mlp", 48, true, true, 14);
    const std::string zero_out = sparsify_folder(kOut + "/zero-out/layers.0.mlp", 48, false, true, 15);
    const std::string zero_in = sparsify_folder(kOut + "/zero-in/layers.0.mlp.input", 48, false, true, 16);
    const auto eval = [&](const std::string& path) {
      const Cli r = run_cli({"sae-eval", "--model", q(llama), "--sae", q(path), "--corpus", q(corpus_),
                             "--context", "16", "--tokens", "200", "--json"});
      if (r.code != 0) qWarning("%s", r.err.c_str());
      return r.code == 0 ? json::parse(r.out) : json();
    };
    const json t = eval(zero_tc), o = eval(zero_out), i = eval(zero_in);
    QVERIFY(!t.is_null() && !o.is_null() && !i.is_null());
    QCOMPARE(t["hook_out"].get<std::string>(), std::string("layers.0.mlp"));
    const double mse_t = t["mse"].get<double>(), mse_o = o["mse"].get<double>(), mse_i = i["mse"].get<double>();
    QVERIFY2(std::abs(mse_t - mse_o) <= 1e-6 * mse_o, (std::to_string(mse_t) + " vs " + std::to_string(mse_o)).c_str());
    QVERIFY2(std::abs(mse_t - mse_i) > 1e-3 * mse_i, "the input hook's MSE: is the transcoder measured where it reads?");
    QVERIFY2(std::abs(t["ce_loss_sae"].get<double>() - t["ce_loss_zero"].get<double>()) < 1e-5, t.dump().c_str());
  }

 private:
  std::string corpus_, pairs_;
};

QTEST_GUILESS_MAIN(TestFamilyEndToEnd)
#include "test_family_end_to_end.moc"
