// Every model family through the one LanguageModel interface: each hook of
// each fixture against the independent numpy reference of
// tools/make_family_fixtures.py (written from Hugging Face's modeling code),
// Hugging Face module paths as aliases, soft-capping and sliding windows that
// really act, padding and early exit, and bad input.
#include <ATen/ATen.h>

#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/runtime_info.h"
#include "core/io/safetensors.h"
#include "core/model/model_registry.h"
#include "core/sae/sae.h"
#include "core/sae/sae_config.h"
#include "core/sae/sae_folder.h"
#include "core/workflows/run_inputs.h"

using namespace saescope;
using namespace saescope::model;
namespace fs = std::filesystem;

namespace {

const std::string kFamilies = std::string(SAESCOPE_FIXTURES_DIR) + "/model/families";
const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/model_families";

const char* const kCases[] = {"pythia", "neox-sequential", "llama3", "qwen2", "qwen3",
                              "gemma2", "gemma3-text", "gemma3-multimodal"};

std::shared_ptr<io::SafetensorsFile> expected(const std::string& c) {
  return io::SafetensorsFile::open(kFamilies + "/" + c + ".expected.safetensors");
}

std::vector<int64_t> input_ids(const std::string& c) {
  const at::Tensor t = expected(c)->tensor("input_ids");
  return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()};
}

RunResult run_ids(const LanguageModel& m, const std::vector<std::vector<int64_t>>& seqs,
                  const std::vector<std::string>& hooks) {
  return m.run(make_token_batch(seqs, m.info(), /*prepend_bos=*/false), {hooks, {}});
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

QString input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

// A copy of a fixture folder with config.json edited.
std::string edited_copy(const std::string& c, const std::string& name,
                        const std::function<void(nlohmann::json&)>& edit) {
  const fs::path dir = fs::path(kOut) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(kFamilies + "/" + c)) fs::copy_file(e.path(), dir / e.path().filename());
  nlohmann::json j;
  std::ifstream(dir / "config.json") >> j;
  edit(j);
  std::ofstream(dir / "config.json") << j.dump(2);
  return dir.string();
}

}  // namespace

class TestModelFamilies : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    set_engine_threads(2);
    fs::create_directories(kOut);
  }

  void everyHookOfEveryFamilyMatchesTheReference_data() {
    QTest::addColumn<QString>("fixture");
    for (const char* c : kCases) QTest::newRow(c) << QString(c);
  }
  void everyHookOfEveryFamilyMatchesTheReference() {
    QFETCH(QString, fixture);
    const std::string c = fixture.toStdString();
    const auto model = load_language_model(kFamilies + "/" + c);
    const auto ref = expected(c);
    const std::vector<std::string> names = model->hook_schema().names();
    // The schema and the reference name the same hooks.
    std::vector<std::string> ref_names;
    for (const auto& t : ref->tensors())
      if (t.name != "input_ids") ref_names.push_back(t.name);
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    std::sort(ref_names.begin(), ref_names.end());
    QCOMPARE(sorted, ref_names);
    const RunResult r = run_ids(*model, {input_ids(c)}, names);
    for (const auto& name : names) {
      const at::Tensor want = ref->tensor(name), got = r.hooks.at(name)[0];
      QVERIFY2(got.sizes() == want.sizes(), (name + ": shape " + c10::str(got.sizes())).c_str());
      // Relative to the value's scale: logits and pre-activations reach ~10.
      const double scale = std::max(1.0, want.abs().max().item<double>());
      const double err = max_abs_diff(got, want) / scale;
      QVERIFY2(err <= 1e-4, (c + " " + name + ": error " + std::to_string(err)).c_str());
    }
  }

  void familiesAndBosRules() {
    const auto info = [](const char* c) { return read_model_info(kFamilies + "/" + c); };
    QCOMPARE(QString::fromStdString(info("pythia").family), QString("gpt_neox"));
    QCOMPARE(QString::fromStdString(info("qwen3").family), QString("llama"));
    QCOMPARE(QString::fromStdString(info("gemma3-multimodal").model_type), QString("gemma3"));
    QVERIFY(!info("pythia").prepend_bos);
    QVERIFY(!info("qwen2").prepend_bos);
    QVERIFY(info("llama3").prepend_bos);
    QVERIFY(info("gemma2").prepend_bos);
    QCOMPARE(info("llama3").eos_token_id, int64_t(2));  // the first of a list
    QCOMPARE(info("llama3").n_kv_head, int64_t(2));
    QCOMPARE(info("llama3").d_head, int64_t(16));        // not 48 / 4
    QCOMPARE(info("gemma3-multimodal").d_model, int64_t(32));  // from text_config
    QVERIFY(!read_hook_schema(kFamilies + "/pythia").has(HookKind::ResidMid));  // parallel block
    QVERIFY(read_hook_schema(kFamilies + "/neox-sequential").has(HookKind::ResidMid));
    QCOMPARE(read_hook_schema(kFamilies + "/llama3").resolve("blocks.0.attn.hook_k").width, int64_t(32));
    QCOMPARE(read_hook_schema(kFamilies + "/llama3").resolve("blocks.0.attn.hook_q").width, int64_t(64));
  }

  void anSaesPrependBosOverridesTheFamilyRule() {
    const ModelInfo pythia = read_model_info(kFamilies + "/pythia");  // no BOS by default, BOS id 0
    const ModelInfo qwen3 = read_model_info(kFamilies + "/qwen3");    // no BOS token at all
    sae::SaeConfig says_yes, says_no, silent;
    says_yes.meta.prepend_bos = true;
    says_no.meta.prepend_bos = false;
    QVERIFY(!sae::run_prepends_bos(pythia, {{"silent", &silent}}));
    QVERIFY(sae::run_prepends_bos(pythia, {{"yes", &says_yes}, {"silent", &silent}}));
    QVERIFY(!sae::run_prepends_bos(read_model_info(kFamilies + "/llama3"), {{"no", &says_no}}));
    QVERIFY(!sae::run_prepends_bos(qwen3, {{"yes", &says_yes}}));
    const QString msg = input_error_of([&] { sae::run_prepends_bos(pythia, {{"yes", &says_yes}, {"no", &says_no}}); });
    QVERIFY2(msg.contains("yes") && msg.contains("no") && msg.contains("separately"), qPrintable(msg));
  }

  void moduleAliasesEqualTheirHooks_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("hook");
    QTest::newRow("llama layer") << "llama3" << "model.layers.1" << "blocks.1.hook_resid_post";
    QTest::newRow("llama .output") << "llama3" << "model.layers.0.output" << "blocks.0.hook_resid_post";
    QTest::newRow("llama mlp") << "llama3" << "model.layers.1.mlp" << "blocks.1.hook_mlp_out";
    QTest::newRow("llama ln1") << "llama3" << "layers.0.input_layernorm.output" << "blocks.0.ln1.hook_out";
    QTest::newRow("llama o_proj in") << "llama3" << "model.layers.1.self_attn.o_proj.input" << "blocks.1.attn.hook_z";
    QTest::newRow("llama k_proj") << "llama3" << "model.layers.0.self_attn.k_proj" << "blocks.0.attn.hook_k";
    QTest::newRow("llama down in") << "llama3" << "model.layers.0.mlp.down_proj.input" << "blocks.0.mlp.hook_post";
    QTest::newRow("qwen3 norm") << "qwen3" << "model.norm" << "ln_final.hook_out";
    QTest::newRow("gemma2 pre_ff") << "gemma2" << "model.layers.2.pre_feedforward_layernorm.output" << "blocks.2.ln2.hook_out";
    QTest::newRow("gemma2 post_ff") << "gemma2" << "model.layers.1.post_feedforward_layernorm" << "blocks.1.hook_mlp_out";
    QTest::newRow("gemma2 mlp") << "gemma2" << "model.layers.1.mlp" << "blocks.1.mlp.hook_result_pre_norm";
    QTest::newRow("gemma2 attn") << "gemma2" << "model.layers.0.self_attn" << "blocks.0.attn.hook_result_pre_norm";
    QTest::newRow("gemma3 mm layer") << "gemma3-multimodal" << "model.language_model.layers.1" << "blocks.1.hook_resid_post";
    QTest::newRow("gemma3 embed") << "gemma3-text" << "model.embed_tokens" << "hook_embed";
    QTest::newRow("neox attn") << "pythia" << "gpt_neox.layers.0.attention" << "blocks.0.hook_attn_out";
    QTest::newRow("neox mlp in") << "pythia" << "gpt_neox.layers.1.mlp.input" << "blocks.1.ln2.hook_out";
  }
  void moduleAliasesEqualTheirHooks() {
    QFETCH(QString, fixture);
    QFETCH(QString, path);
    QFETCH(QString, hook);
    const auto model = load_language_model(kFamilies + "/" + fixture.toStdString());
    const RunResult r = run_ids(*model, {input_ids(fixture.toStdString())}, {path.toStdString(), hook.toStdString()});
    at::Tensor canonical = r.hooks.at(hook.toStdString());
    if (canonical.dim() == 4) canonical = canonical.flatten(-2);  // module paths see heads flattened
    QCOMPARE(r.hooks.at(path.toStdString()).sizes(), canonical.sizes());
    QCOMPARE(max_abs_diff(r.hooks.at(path.toStdString()), canonical), 0.0);
  }

  void replacingAModulePathReachesTheModel() {
    const auto model = load_language_model(kFamilies + "/llama3");
    const std::vector<int64_t> ids = input_ids("llama3");
    const HookFn zero = [](const at::Tensor& v, const HookPoint&) { return at::zeros_like(v); };
    const at::Tensor a = model->run(make_token_batch({ids}, model->info(), false),
                                    {{"blocks.1.hook_resid_post"}, {{"model.layers.0.self_attn.o_proj.input", zero}}})
                             .hooks.at("blocks.1.hook_resid_post");
    const at::Tensor b = model->run(make_token_batch({ids}, model->info(), false),
                                    {{"blocks.1.hook_resid_post"}, {{"blocks.0.attn.hook_z", zero}}})
                             .hooks.at("blocks.1.hook_resid_post");
    QCOMPARE(max_abs_diff(a, b), 0.0);
  }

  void softCappingAndSlidingWindowsAct() {
    // Without soft-capping the same weights give other patterns and logits.
    const auto capped = load_language_model(kFamilies + "/gemma2");
    const auto uncapped = load_language_model(edited_copy("gemma2", "gemma2-uncapped", [](nlohmann::json& j) {
      j["attn_logit_softcapping"] = nullptr;
      j["final_logit_softcapping"] = nullptr;
    }));
    const std::vector<int64_t> ids = input_ids("gemma2");
    const std::vector<std::string> hooks = {"blocks.1.attn.hook_pattern", "logits"};
    const RunResult a = run_ids(*capped, {ids}, hooks), b = run_ids(*uncapped, {ids}, hooks);
    QVERIFY(max_abs_diff(a.hooks.at(hooks[0]), b.hooks.at(hooks[0])) > 1e-2);
    QVERIFY(a.hooks.at("logits").abs().max().item<double>() < 1.5);
    QVERIFY(b.hooks.at("logits").abs().max().item<double>() > 1.5);
    // Layer 0 slides (window 4): a query never sees a key 4 or more back; layer 1 does.
    const RunResult p = run_ids(*capped, {ids}, {"blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"});
    const at::Tensor sliding = p.hooks.at("blocks.0.attn.hook_pattern")[0];  // [H, q, k]
    const at::Tensor full = p.hooks.at("blocks.1.attn.hook_pattern")[0];
    QCOMPARE(sliding.select(1, 11).slice(1, 0, 8).abs().max().item<double>(), 0.0);
    QVERIFY(sliding.select(1, 11).slice(1, 8, 12).min().item<double>() > 0);
    QVERIFY(full.select(1, 11).slice(1, 0, 8).min().item<double>() > 0);
  }

  void paddingAndEarlyExit() {
    for (const char* c : {"pythia", "llama3", "gemma3-text"}) {
      const auto model = load_language_model(kFamilies + "/" + c);
      std::vector<int64_t> ids = input_ids(c), shorter(ids.begin(), ids.begin() + 5);
      const RunResult alone = run_ids(*model, {shorter}, {"logits"});
      const RunResult padded = run_ids(*model, {ids, shorter}, {"logits"});
      // Batch shape changes the BLAS kernels' blocking, so float32 rounding
      // differs: compare relative to the logits' scale (1e-5 absolute failed
      // on an AVX-512 machine for the Llama case by a hair).
      const at::Tensor a = alone.hooks.at("logits")[0];
      const double diff = max_abs_diff(a, padded.hooks.at("logits")[1].slice(0, 0, 5));
      const double scale = std::max(1.0, a.abs().max().item<double>());
      QVERIFY2(diff < 1e-5 * scale, (std::string(c) + ": " + std::to_string(diff) + " at scale " +
                                     std::to_string(scale)).c_str());
      const RunResult early = run_ids(*model, {ids}, {"blocks.0.hook_attn_out", "blocks.0.ln1.hook_out"});
      QVERIFY2(early.blocks_computed == 1 && !early.ran_final_ln && !early.ran_unembed, c);
    }
  }

  void centringTheWritingWeightsOfNeox() {
    for (const char* c : {"pythia", "neox-sequential"}) {
      ModelOptions centred;
      centred.center_writing_weights = true;
      const auto raw = load_language_model(kFamilies + "/" + c);
      const auto cen = load_language_model(kFamilies + "/" + c, centred);
      const std::vector<std::string> names = raw->hook_schema().names();
      const RunResult a = run_ids(*raw, {input_ids(c)}, names), b = run_ids(*cen, {input_ids(c)}, names);
      for (const std::string& name : names) {
        const at::Tensor x = a.hooks.at(name), y = b.hooks.at(name);
        const double diff = max_abs_diff(x, y) / std::max(1.0, x.abs().max().item<double>());
        if (raw->hook_schema().resolve(name).residual) {
          // The stream is mean-zero per token, so it changes unless it already was.
          QVERIFY2(y.mean(-1).abs().max().item<double>() < 1e-5, (std::string(c) + " " + name).c_str());
          QVERIFY2(diff > 1e-3, (std::string(c) + " " + name).c_str());
        } else {  // everything after a LayerNorm, and the logits, as before
          QVERIFY2(diff < 1e-4, (std::string(c) + " " + name + ": " + std::to_string(diff)).c_str());
        }
      }
    }
  }

  // fold_value_biases: hook_v and hook_z lose the value bias (per query head,
  // its kv head's), and nothing after attention changes.
  void foldingValueBiases_data() {
    QTest::addColumn<QString>("fixture");
    for (const char* c : {"pythia", "neox-sequential", "qwen2"}) QTest::newRow(c) << QString(c);
  }
  void foldingValueBiases() {
    QFETCH(QString, fixture);
    const std::string c = fixture.toStdString();
    ModelOptions folded;
    folded.fold_value_biases = true;
    const auto raw = load_language_model(kFamilies + "/" + c), fold = load_language_model(kFamilies + "/" + c, folded);
    const std::vector<std::string> names = raw->hook_schema().names();
    const RunResult a = run_ids(*raw, {input_ids(c)}, names), b = run_ids(*fold, {input_ids(c)}, names);
    for (const std::string& name : names) {
      const double scale = std::max(1.0, a.hooks.at(name).abs().max().item<double>());
      const double diff = max_abs_diff(a.hooks.at(name), b.hooks.at(name)) / scale;
      const bool values = name.find("attn.hook_v") != std::string::npos || name.find("attn.hook_z") != std::string::npos;
      if (values) QVERIFY2(diff > 1e-3, (c + " " + name).c_str());
      else QVERIFY2(diff < 1e-4, (c + " " + name + ": " + std::to_string(diff)).c_str());
    }
    // What hook_z lost is exactly the value bias, the same at every position.
    const at::Tensor lost = a.hooks.at("blocks.0.attn.hook_z")[0] - b.hooks.at("blocks.0.attn.hook_z")[0];  // [T, H, Dh]
    QVERIFY(max_abs_diff(lost, lost[0].expand_as(lost)) < 1e-5);
  }

  void valueBiasesAreFoldedForTheSaesThatExpectIt() {
    sae::SaeConfig z_folded, z_raw, resid;
    z_folded.meta.hook_name = "blocks.1.attn.hook_z";
    z_folded.fold_value_biases = true;
    z_raw.meta.hook_name = "blocks.1.attn.hook_z";
    resid.meta.hook_name = "blocks.1.hook_resid_post";
    resid.fold_value_biases = true;  // irrelevant at the residual stream
    QVERIFY(workflows::model_options_for({{"z", &z_folded}}, "cpu").fold_value_biases);
    QVERIFY(!workflows::model_options_for({{"z", &z_raw}}, "cpu").fold_value_biases);
    QVERIFY(!workflows::model_options_for({{"r", &resid}}, "cpu").fold_value_biases);
    const QString msg = input_error_of([&] { workflows::model_options_for({{"z", &z_folded}, {"raw", &z_raw}}, "cpu"); });
    QVERIFY2(msg.contains("fold_value_biases") && msg.contains("separately"), qPrintable(msg));
    // A cfg.json that does not say gets TransformerLens's default; one made here says false.
    sae::SaeConfig c;
    c.architecture = sae::Architecture::Standard;
    c.d_in = 8;
    c.d_sae = 4;
    c.meta.hook_name = "blocks.0.attn.hook_z";
    sae::SaeWeights w{at::zeros({8, 4}), at::zeros({4, 8}), at::zeros({4}), at::zeros({8})};
    const std::string dir = kOut + "/fvb-sae";
    sae::save_sae(sae::Sae(c, w, dir), dir);
    QVERIFY(!sae::read_sae_config(dir + "/cfg.json").fold_value_biases);
    nlohmann::json j;
    std::ifstream(dir + "/cfg.json") >> j;
    QCOMPARE(j["metadata"]["model_from_pretrained_kwargs"]["fold_value_biases"].get<bool>(), false);
    j["metadata"]["model_from_pretrained_kwargs"].erase("fold_value_biases");
    std::ofstream(dir + "/cfg.json") << j.dump();
    QVERIFY(sae::read_sae_config(dir + "/cfg.json").fold_value_biases);
  }

  void unembeddingIsTheFamilys() {
    const auto gemma = load_language_model(kFamilies + "/gemma2");
    nlohmann::json j;
    std::ifstream(kFamilies + "/gemma2/config.json") >> j;
    const auto w = io::SafetensorsFile::open(kFamilies + "/gemma2/model.safetensors");
    // Gemma's final norm multiplies by 1 + w.
    QCOMPARE(max_abs_diff(gemma->unembedding().final_norm_gain, w->tensor("model.norm.weight") + 1.0), 0.0);
    QCOMPARE(max_abs_diff(gemma->unembedding().unembed, w->tensor("model.embed_tokens.weight")), 0.0);
    const auto pythia = load_language_model(kFamilies + "/pythia");
    const auto p = io::SafetensorsFile::open(kFamilies + "/pythia/model.safetensors");
    QCOMPARE(max_abs_diff(pythia->unembedding().unembed, p->tensor("embed_out.weight")), 0.0);
    QCOMPARE(gemma->unembedding().final_softcap, j["final_logit_softcapping"].get<double>());
    // Every family's logits are ln_final.hook_out · unembedᵀ, soft-capped when
    // final_softcap says: sae-eval computes its CE losses so, a chunk of rows
    // at a time, never holding the logits.
    for (const char* c : kCases) {
      const auto model = load_language_model(kFamilies + "/" + c);
      const RunResult r = run_ids(*model, {input_ids(c)}, {"ln_final.hook_out", "logits"});
      const Unembedding u = model->unembedding();
      at::Tensor logits = at::linear(r.hooks.at("ln_final.hook_out"), u.unembed);
      if (u.final_softcap > 0) logits = at::tanh(logits / u.final_softcap) * u.final_softcap;
      QVERIFY2(max_abs_diff(logits, r.hooks.at("logits")) < 1e-5, c);
    }
  }

  void badInputIsRefusedClearly() {
    QString msg = input_error_of([] {
      load_language_model(edited_copy("llama3", "mistral", [](nlohmann::json& j) { j["model_type"] = "mistral"; }));
    });
    QVERIFY2(msg.contains("mistral") && msg.contains("gpt_neox") && msg.contains("gemma3_text") &&
                 msg.contains("config.json"), qPrintable(msg));
    msg = input_error_of([] {
      read_model_info(edited_copy("llama3", "no-layers", [](nlohmann::json& j) { j.erase("num_hidden_layers"); }));
    });
    QVERIFY2(msg.contains("num_hidden_layers") && msg.contains("missing"), qPrintable(msg));
    msg = input_error_of([] {
      read_model_info(edited_copy("qwen2", "heads", [](nlohmann::json& j) { j["num_attention_heads"] = 5; }));
    });
    QVERIFY2(msg.contains("num_attention_heads 5") && msg.contains("head_dim"), qPrintable(msg));
    msg = input_error_of([] {  // head_dim × heads is not what q_proj holds
      load_language_model(edited_copy("llama3", "head-dim", [](nlohmann::json& j) { j["head_dim"] = 12; }));
    });
    QVERIFY2(msg.contains("q_proj") && msg.contains("shape") && msg.contains("head_dim 12"), qPrintable(msg));
    msg = input_error_of([] {
      read_model_info(edited_copy("gemma3-multimodal", "no-text", [](nlohmann::json& j) { j.erase("text_config"); }));
    });
    QVERIFY2(msg.contains("text_config") && msg.contains("no text model"), qPrintable(msg));
    const auto pythia = load_language_model(kFamilies + "/pythia");
    msg = input_error_of([&] { run_ids(*pythia, {{1, 2}}, {"blocks.0.hook_resid_mid"}); });
    QVERIFY2(msg.contains("hook_resid_mid") && msg.contains("gpt_neox") && msg.contains("hook_resid_post") &&
                 msg.contains("gpt_neox.layers.L"), qPrintable(msg));
    msg = input_error_of([&] { run_ids(*pythia, {{1, 96}}, {"logits"}); });  // vocabulary is 96
    QVERIFY2(msg.contains("96") && msg.contains("vocabulary"), qPrintable(msg));
    msg = input_error_of([] {  // Qwen 3 has no BOS: none can be prepended
      const auto qwen = load_language_model(kFamilies + "/qwen3");
      make_token_batch({{1}}, qwen->info(), true);
    });
    QVERIFY2(msg.contains("BOS"), qPrintable(msg));
    msg = input_error_of([] {
      load_language_model(edited_copy("gemma2", "gemma2-centred", [](nlohmann::json&) {}), [] {
        ModelOptions o;
        o.center_writing_weights = true;
        return o;
      }());
    });
    QVERIFY2(msg.contains("RMSNorm"), qPrintable(msg));
  }
};

QTEST_GUILESS_MAIN(TestModelFamilies)
#include "test_model_families.moc"
