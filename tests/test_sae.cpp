// SAE engine without a model: SAELens folders of every generation and
// architecture against an independent numpy implementation
// (tools/make_sae_fixture.py), refusals, atomic save, metrics, `encode` CLI.
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "core/sae/activation_source.h"
#include "core/sae/reconstruction_metrics.h"
#include "core/sae/sae_folder.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;
using namespace saescope::sae;

namespace {

const std::string kFixtures = std::string(SAESCOPE_FIXTURES_DIR) + "/sae";
const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/sae";

std::vector<std::string> fixture_names() {
  std::ifstream in(kFixtures + "/index.json");
  std::vector<std::string> names;
  const json index = json::parse(in);  // items() is a view: the json must outlive the loop
  for (auto& [k, v] : index.items()) names.push_back(k);
  return names;
}

json fixture_index(const std::string& name) {
  std::ifstream in(kFixtures + "/index.json");
  return json::parse(in).at(name);
}

at::Tensor expected(const std::string& name, const char* tensor) {
  return io::SafetensorsFile::open(kFixtures + "/expected/" + name + ".safetensors")
      ->tensor(tensor)
      .clone();
}

// A scratch copy of a fixture folder to break in one way.
std::string copy_fixture(const std::string& name, const std::string& as) {
  const fs::path dst = fs::path(kOut) / as;
  fs::remove_all(dst);
  fs::create_directories(dst.parent_path());
  fs::copy(fs::path(kFixtures) / name, dst, fs::copy_options::recursive);
  return dst.string();
}

void edit_cfg(const std::string& dir, const std::function<void(json&)>& edit) {
  json j;
  {
    std::ifstream in(dir + "/cfg.json");
    j = json::parse(in);
  }
  edit(j);
  std::ofstream(dir + "/cfg.json") << j.dump(2);
}

void edit_weights(const std::string& dir,
                  const std::function<void(std::map<std::string, at::Tensor>&)>& edit,
                  const char* file = "sae_weights.safetensors") {
  const std::string path = dir + "/" + file;
  std::map<std::string, at::Tensor> t;
  {
    auto f = io::SafetensorsFile::open(path);
    for (const auto& info : f->tensors()) t[info.name] = f->tensor(info.name).clone();
  }
  edit(t);
  std::vector<std::pair<std::string, at::Tensor>> v(t.begin(), t.end());
  io::write_safetensors(path, v);
}

// Runs `fn`, which must throw InputError whose message holds every `parts`.
void expect_input_error(const std::function<void()>& fn, std::vector<std::string> parts) {
  try {
    fn();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts)
      QVERIFY2(msg.find(p) != std::string::npos, (msg + "  [missing: " + p + "]").c_str());
    return;
  }
  QFAIL("no InputError thrown");
}

bool close(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::allclose(a.to(at::kFloat), b.to(at::kFloat), 1e-5, 1e-5);
}

}  // namespace

class TestSae : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { fs::create_directories(kOut); }

  // ---- every fixture reproduces the numpy forward pass ----------------------
  void encodeDecodeMatchesFixture_data() {
    QTest::addColumn<QString>("name");
    for (const auto& n : fixture_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
  }
  void encodeDecodeMatchesFixture() {
    QFETCH(QString, name);
    const std::string n = name.toStdString();
    const Sae sae = load_sae(kFixtures + "/" + n);
    const json idx = fixture_index(n);
    QCOMPARE(to_string(sae.config().architecture), idx.at("architecture").get<std::string>());
    QCOMPARE(to_string(sae.config().normalize_activations),
             idx.at("normalize_activations").get<std::string>());
    QCOMPARE(*sae.config().meta.hook_layer, idx.at("hook_layer").get<int64_t>());
    if (!idx.at("k").is_null()) QCOMPARE(sae.config().k, idx.at("k").get<int64_t>());

    const at::Tensor x = expected(n, "activations");
    InputNormState state;
    const at::Tensor f = sae.encode(x, &state);
    QVERIFY2(close(f, expected(n, "features")), "features differ from the fixture");
    const at::Tensor xh = sae.decode(f, &state);
    QVERIFY2(close(xh, expected(n, "reconstruction")), "reconstruction differs from the fixture");
    const SaeOutput out = sae.forward(x);
    QVERIFY(at::equal(out.features, f));
    QVERIFY(at::equal(out.reconstruction, xh));
  }

  void legacyConfigsAreTranslated() {
    const Sae topk = load_sae(kFixtures + "/topk_legacy");  // "standard" + activation_fn_str topk
    QVERIFY(topk.config().is_legacy);
    QCOMPARE(topk.config().architecture, Architecture::TopK);
    QCOMPARE(topk.config().k, int64_t(5));
    QCOMPARE(topk.config().normalize_activations, Normalization::ExpectedAverageOnlyIn);
    QCOMPARE(*topk.config().scaling_factor, 1.9);
    QCOMPARE(topk.config().meta.hook_name, std::string("blocks.6.hook_resid_pre"));
    QCOMPARE(topk.config().meta.model_name, std::string("gpt2-small"));

    const Sae std_legacy = load_sae(kFixtures + "/standard_legacy");
    QVERIFY(!std_legacy.config().center_writing_weights);
    QCOMPARE(std_legacy.config().center_writing_weights_source, std::string("cfg.json field"));
    const Sae jr = load_sae(kFixtures + "/jumprelu_legacy");
    QVERIFY(jr.config().center_writing_weights);
    QVERIFY(jr.config().center_writing_weights_source.rfind("assumed", 0) == 0);
    QVERIFY(!jr.config().apply_b_dec_to_input);

    const Sae v6 = load_sae(kFixtures + "/topk_v6");
    QVERIFY(!v6.config().is_legacy);
    QVERIFY(v6.config().rescale_acts_by_decoder_norm);
    QVERIFY(!v6.config().center_writing_weights);  // layer 1: kwargs say false
    QCOMPARE(v6.config().center_writing_weights_source,
             std::string("model_from_pretrained_kwargs"));
    QCOMPARE(v6.config().meta.context_size.value_or(0), int64_t(128));
    QVERIFY(v6.log_sparsity().defined());
  }

  void hookLayerFromHookName() {
    json cfg = {{"d_in", 4}, {"d_sae", 8}, {"hook_point", "blocks.7.hook_resid_post"}};
    const SaeConfig c = parse_sae_config(cfg, "x/cfg.json");
    QCOMPARE(c.meta.hook_name, std::string("blocks.7.hook_resid_post"));
    QCOMPARE(*c.meta.hook_layer, int64_t(7));
    QCOMPARE(c.architecture, Architecture::Standard);  // legacy default
    QVERIFY(c.apply_b_dec_to_input);                   // legacy default
  }

  // Found by bench/fuzz (fuzz_sae_config, regress_huge_d_sae.json): a whole
  // number past int64 (d_sae 4.4e104) was cast to int64_t, undefined
  // behaviour that UBSan reports; 2^64-1 wrapped to -1. Both are refused as
  // too large.
  void hugeIntegersRefused() {
    for (const json& big : {json(4.4e104), json(-1e300), json(18446744073709551615ull)}) {
      json cfg = {{"d_in", 4}, {"d_sae", big}, {"hook_point", "blocks.7.hook_resid_post"}};
      expect_input_error([&] { parse_sae_config(cfg, "x/cfg.json"); }, {"x/cfg.json", "d_sae", "too large"});
    }
    json cfg = {{"d_in", 4}, {"d_sae", 8.0}, {"hook_point", "blocks.7.hook_resid_post"}};
    QCOMPARE(parse_sae_config(cfg, "x/cfg.json").d_sae, int64_t(8));  // a whole double still reads
  }

  // ---- refusals: each names the file and what is wrong ----------------------
  void refusesDInMismatch() {
    const Sae sae = load_sae(kFixtures + "/standard_v6");
    sae.expect_d_in(16, "blocks.0.hook_resid_pre");
    expect_input_error([&] { sae.expect_d_in(768, "blocks.0.hook_resid_pre"); },
                       {"standard_v6", "16", "768", "blocks.0.hook_resid_pre"});
    expect_input_error([&] { sae.encode(at::zeros({2, 15})); }, {"standard_v6", "16"});
  }

  void refusesTopkWithoutK() {
    const std::string d = copy_fixture("topk_v6", "no_k");
    edit_cfg(d, [](json& j) { j.erase("k"); });
    expect_input_error([&] { load_sae(d); }, {"cfg.json", "without k"});
    const std::string l = copy_fixture("topk_legacy", "no_k_legacy");
    edit_cfg(l, [](json& j) { j.erase("activation_fn_kwargs"); });
    expect_input_error([&] { load_sae(l); }, {"cfg.json", "without k"});
  }

  void refusesJumpReluWithoutThreshold() {
    const std::string d = copy_fixture("jumprelu_v6", "no_threshold");
    edit_weights(d, [](auto& t) { t.erase("threshold"); });
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "`threshold`"});
  }

  void refusesGatedWithoutItsTensors_data() {
    QTest::addColumn<QString>("tensor");
    for (const char* t : {"b_gate", "b_mag", "r_mag"}) QTest::newRow(t) << QString(t);
  }
  void refusesGatedWithoutItsTensors() {
    QFETCH(QString, tensor);
    const std::string name = tensor.toStdString();
    const std::string d = copy_fixture("gated_v6", "gated_no_" + name);
    edit_weights(d, [&](auto& t) { t.erase(name); });
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "`" + name + "`"});
  }

  void refusesWrongShapes() {
    const std::string d = copy_fixture("standard_v6", "bad_shape");
    edit_weights(d, [](auto& t) { t["W_enc"] = t["W_enc"].t().contiguous(); });
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "`W_enc`", "[48, 16]"});
    const std::string b = copy_fixture("standard_v6", "bad_bias");
    edit_weights(b, [](auto& t) { t["b_dec"] = at::zeros({17}); });
    expect_input_error([&] { load_sae(b); }, {"`b_dec`", "[17]"});
    const std::string i = copy_fixture("standard_v6", "int_weights");
    edit_weights(i, [](auto& t) { t["b_enc"] = t["b_enc"].to(at::kInt); });
    expect_input_error([&] { load_sae(i); }, {"`b_enc`", "I32"});
  }

  void refusesNonFiniteWeights_data() {
    QTest::addColumn<double>("value");
    QTest::newRow("nan") << std::nan("");
    QTest::newRow("inf") << double(INFINITY);
    QTest::newRow("-inf") << -double(INFINITY);
  }
  void refusesNonFiniteWeights() {
    QFETCH(double, value);
    const std::string d = copy_fixture("topk_v6", "nonfinite");
    edit_weights(d, [&](auto& t) { t["W_dec"][3][5] = value; });
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "`W_dec`", "NaN"});
  }

  void refusesUnknownArchitecture() {
    const std::string d = copy_fixture("standard_v6", "unknown_arch");
    edit_cfg(d, [](json& j) { j["architecture"] = "temporal"; });
    expect_input_error([&] { load_sae(d); }, {"cfg.json", "temporal"});
    const std::string a = copy_fixture("standard_legacy", "unknown_act");
    edit_cfg(a, [](json& j) { j["activation_fn_str"] = "tanh-relu"; });
    expect_input_error([&] { load_sae(a); }, {"cfg.json", "tanh-relu"});
  }

  void refusesTensorsOfAnotherArchitecture() {
    // A JumpReLU file whose cfg says "standard" would silently drop its threshold.
    const std::string d = copy_fixture("jumprelu_v6", "jumprelu_as_standard");
    edit_cfg(d, [](json& j) { j["architecture"] = "standard"; });
    expect_input_error([&] { load_sae(d); },
                       {"sae_weights.safetensors", "`threshold`", "standard"});
  }

  void refusesMissingFiles() {
    const std::string d = copy_fixture("standard_v6", "no_weights");
    fs::remove(d + "/sae_weights.safetensors");
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "missing"});
    const std::string c = copy_fixture("standard_v6", "no_cfg");
    fs::remove(c + "/cfg.json");
    expect_input_error([&] { load_sae(c); }, {"cfg.json", "missing"});
    expect_input_error([&] { load_sae(kOut + "/does_not_exist"); }, {"does_not_exist"});
  }

  void expectedAverageNeedsItsFactor() {
    const std::string d = copy_fixture("topk_v6", "no_scaler");
    fs::remove(d + "/activation_scaler.json");
    expect_input_error([&] { load_sae(d); }, {"cfg.json", "scaling factor"});
    LoadOptions lo;
    lo.scaling_factor = 0.7;
    const Sae sae = load_sae(d, lo);
    QVERIFY(close(sae.forward(expected("topk_v6", "activations")).reconstruction,
                  expected("topk_v6", "reconstruction")));
  }

  void legacyScalingFactor() {
    // All ones: dropped (standard_legacy holds one and matches the fixture above).
    // Not all ones with finetuning_scaling_factor: folded (gated_legacy matches).
    // Not all ones without it: the file contradicts itself.
    const std::string d = copy_fixture("gated_legacy", "scaling_no_flag");
    edit_cfg(d, [](json& j) { j["finetuning_scaling_factor"] = false; });
    expect_input_error([&] { load_sae(d); }, {"sae_weights.safetensors", "`scaling_factor`"});
    const std::string o = copy_fixture("standard_legacy", "scaling_ones");
    QVERIFY(at::equal(load_sae(o).weights().W_dec,
                      load_sae(kFixtures + "/standard_legacy").weights().W_dec));
  }

  void refusesBadSparsity() {
    const std::string d = copy_fixture("standard_v6", "bad_sparsity");
    edit_weights(
        d, [](auto& t) { t["sparsity"][0] = std::nan(""); }, "sparsity.safetensors");
    expect_input_error([&] { load_sae(d); }, {"sparsity.safetensors", "NaN"});
  }

  // ---- save: SAELens v6 layout, bit-exact round trip, atomic ----------------
  void saveLoadRoundTrip_data() { encodeDecodeMatchesFixture_data(); }
  void saveLoadRoundTrip() {
    QFETCH(QString, name);
    const std::string n = name.toStdString();
    const Sae a = load_sae(kFixtures + "/" + n);
    const std::string dir = kOut + "/roundtrip/" + n;
    save_sae(a, dir);
    const Sae b = load_sae(dir);
    QVERIFY(!b.config().is_legacy);
    QCOMPARE(to_saelens_json(b.config()).dump(), to_saelens_json(a.config()).dump());
    const SaeWeights &wa = a.weights(), &wb = b.weights();
    for (auto [ta, tb] : {std::pair{wa.W_enc, wb.W_enc},
                          {wa.W_dec, wb.W_dec},
                          {wa.b_enc, wb.b_enc},
                          {wa.b_dec, wb.b_dec},
                          {wa.threshold, wb.threshold},
                          {wa.b_gate, wb.b_gate},
                          {wa.b_mag, wb.b_mag},
                          {wa.r_mag, wb.r_mag}}) {
      QCOMPARE(ta.defined(), tb.defined());
      if (ta.defined()) QVERIFY(at::equal(ta, tb));
    }
    QCOMPARE(a.log_sparsity().defined(), b.log_sparsity().defined());
    if (a.log_sparsity().defined()) QVERIFY(at::equal(a.log_sparsity(), b.log_sparsity()));
    const at::Tensor x = expected(n, "activations");
    QVERIFY(at::equal(a.forward(x).reconstruction, b.forward(x).reconstruction));

    std::ifstream in(dir + "/cfg.json");
    const json cfg = json::parse(in);
    QVERIFY(cfg.at("metadata").is_object());
    QVERIFY(cfg.at("metadata").at("sae_lens_version").get<std::string>() >= "6");
    QVERIFY(cfg.contains("architecture") && !cfg.contains("hook_point"));
    QCOMPARE(cfg.at("metadata").at("hook_name").get<std::string>(), a.config().meta.hook_name);
  }

  void savesInTheConfigsDtype() {
    // A shipped SAE (the demo's) is stored in float16: the file holds F16,
    // cfg.json says so, and loading gives the float16-rounded weights.
    Sae a = load_sae(kFixtures + "/topk_v6");
    a.mutable_config().dtype = "float16";
    const std::string dir = kOut + "/float16";
    save_sae(a, dir);
    const auto file = saescope::io::SafetensorsFile::open(dir + "/sae_weights.safetensors");
    QCOMPARE(QString::fromStdString(file->info("W_enc").dtype), QStringLiteral("F16"));
    std::ifstream in(dir + "/cfg.json");
    QCOMPARE(json::parse(in).at("dtype").get<std::string>(), std::string("float16"));
    const Sae b = load_sae(dir);
    QCOMPARE(b.config().dtype, std::string("float16"));
    QCOMPARE(b.weights().W_enc.scalar_type(), at::kFloat);
    QVERIFY(at::equal(b.weights().W_dec, a.weights().W_dec.to(at::kHalf).to(at::kFloat)));
  }

  void killedSaveLeavesPreviousSaeIntact() {
    const std::string dir = kOut + "/atomic";
    fs::remove_all(dir);
    const Sae old_sae = load_sae(kFixtures + "/standard_v6");
    const Sae new_sae = load_sae(kFixtures + "/jumprelu_v6");
    save_sae(old_sae, dir);
    for (const char* crash_after :
         {"sae_weights.safetensors", "sparsity.safetensors", "cfg.json"}) {
      bool thrown = false;
      try {
        save_sae(new_sae, dir, [&](const std::string& f) {
          if (f == crash_after) throw std::runtime_error("simulated crash");
        });
      } catch (const std::runtime_error&) {
        thrown = true;
      }
      QVERIFY(thrown);
      const Sae now = load_sae(dir);
      QCOMPARE(now.config().architecture, Architecture::Standard);
      QVERIFY(at::equal(now.weights().W_enc, old_sae.weights().W_enc));
    }
    // A process killed mid-save leaves its temp folder behind; it harms nothing.
    fs::create_directories(kOut + "/.atomic.saving-999999-0");
    std::ofstream(kOut + "/.atomic.saving-999999-0/sae_weights.safetensors") << "partial";
    save_sae(new_sae, dir);
    const Sae now = load_sae(dir);
    QCOMPARE(now.config().architecture, Architecture::JumpReLU);
    QVERIFY(at::equal(now.weights().threshold, new_sae.weights().threshold));
    for (const auto& e : fs::directory_iterator(kOut)) {
      const std::string f = e.path().filename().string();
      QVERIFY2(f.find(".atomic.saving") == std::string::npos || f == ".atomic.saving-999999-0",
               ("temp folder left behind: " + f).c_str());
    }
  }

  void saveRefusesToReplaceANonSaeFolder() {
    const std::string dir = kOut + "/not_an_sae";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir + "/notes.txt") << "keep me";
    expect_input_error([&] { save_sae(load_sae(kFixtures + "/standard_v6"), dir); },
                       {"not_an_sae", "not an SAE folder"});
    QVERIFY(fs::exists(dir + "/notes.txt"));
  }

  // ---- metrics --------------------------------------------------------------
  void metricsOnKnownValues() {
    // 4 tokens, d_in 2, d_sae 3.
    const at::Tensor x = at::tensor({1.f, 0.f, 3.f, 0.f, 1.f, 2.f, 3.f, 2.f}).view({4, 2});
    const at::Tensor xh = at::tensor({1.f, 1.f, 3.f, 0.f, 1.f, 2.f, 1.f, 2.f}).view({4, 2});
    const at::Tensor f =
        at::tensor({1.f, 0.f, 0.f, 1.f, 0.f, 0.f, 2.f, 0.f, 0.f, 1.f, 0.f, 0.f}).view({4, 3});
    ReconstructionMetrics m(2, 3, /*dense_threshold=*/0.5, /*bins=*/8);
    m.add(x.narrow(0, 0, 3), f.narrow(0, 0, 3), xh.narrow(0, 0, 3));  // two batches
    m.add(x.narrow(0, 3, 1), f.narrow(0, 3, 1), xh.narrow(0, 3, 1));
    const ReconstructionReport r = m.report();
    QCOMPARE(r.tokens, int64_t(4));
    QCOMPARE(r.mse, (1.0 + 0 + 0 + 4.0) / 4);  // Σ‖x − x̂‖² / tokens
    QCOMPARE(r.l0, 1.0);
    QCOMPARE(r.l1, 5.0 / 4);
    // mean x = (2, 1); Σ‖x − mean‖² = (1+1) + (1+1) + (1+1) + (1+1) = 8.
    QCOMPARE(r.explained_variance, 1.0 - 5.0 / 8.0);
    QCOMPARE(r.feature_density[0].item<double>(), 1.0);
    QCOMPARE(r.dead_fraction, 2.0 / 3);
    QCOMPARE(r.dense_fraction, 1.0 / 3);
    QCOMPARE(r.histogram.dead, int64_t(2));
    QCOMPARE(r.histogram.counts.back(), int64_t(1));  // density 1 → log10 0 → last bin
  }

  void evaluateStreamsBatches() {
    const Sae sae = load_sae(kFixtures + "/topk_v6");
    const at::Tensor x = expected("topk_v6", "activations");
    TensorActivationSource src(x);
    const ReconstructionReport r = evaluate_reconstruction(sae, src, 1000, /*batch=*/5);
    QCOMPARE(r.tokens, x.size(0));
    QVERIFY(std::abs(r.l0 - 6.0) < 1e-9);
    const at::Tensor err = (expected("topk_v6", "reconstruction") - x).to(at::kDouble);
    QVERIFY(std::abs(r.mse - err.square().sum().item<double>() / x.size(0)) < 1e-6 * r.mse);
  }

  // ---- CLI ------------------------------------------------------------------
  void cliEncode() {
    const std::string out = kOut + "/encoded.safetensors";
    fs::remove(out);
    QProcess p;
    p.start(SAESCOPE_CLI_PATH,
            {"encode", "--sae", QString::fromStdString(kFixtures + "/gated_v6"), "--in",
             QString::fromStdString(kFixtures + "/expected/gated_v6.safetensors"), "--out",
             QString::fromStdString(out), "--batch", "7", "--json"});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const json report = json::parse(p.readAllStandardOutput().toStdString());
    QCOMPARE(report.at("tokens").get<int64_t>(), int64_t(24));
    QVERIFY(report.contains("explained_variance_formula"));
    auto f = io::SafetensorsFile::open(out);
    QVERIFY(close(f->tensor("features"), expected("gated_v6", "features")));
    QVERIFY(close(f->tensor("reconstruction"), expected("gated_v6", "reconstruction")));
  }

  void cliEncodeBadInputExitsTwo() {
    const std::string narrow = kOut + "/narrow.safetensors";
    io::write_safetensors(narrow, {{"activations", at::zeros({3, 8})}});
    const std::string wrong_name = kOut + "/wrong_name.safetensors";
    io::write_safetensors(wrong_name, {{"acts", at::zeros({3, 16})}});
    for (const auto& [in, needle] : {std::pair{narrow, std::string("reads 16-dimensional")},
                                     {wrong_name, std::string("no tensor `activations`")}}) {
      QProcess p;
      p.start(SAESCOPE_CLI_PATH,
              {"encode", "--sae", QString::fromStdString(kFixtures + "/standard_v6"), "--in",
               QString::fromStdString(in), "--out",
               QString::fromStdString(kOut + "/never.safetensors")});
      QVERIFY(p.waitForFinished(60000));
      QCOMPARE(p.exitCode(), 2);
      const std::string err = p.readAllStandardError().toStdString();
      QVERIFY2(err.find(needle) != std::string::npos && err.find(in) != std::string::npos,
               err.c_str());
    }
  }
};

QTEST_GUILESS_MAIN(TestSae)
#include "test_sae.moc"
