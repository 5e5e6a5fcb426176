// SAEs as the field publishes them: every release layout under
// tests/fixtures/sae_formats (written by tools/make_sae_format_fixtures.py in
// the exact published layout, with features and reconstructions from an
// independent numpy implementation of each release's own code) read through
// open_sae, matched within 1e-5, saved in the SAELens layout and read back
// alike; sae-info and encode on each; the refusals.
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "core/sae/formats/sae_formats.h"
#include "verify_message.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;
using namespace saescope::sae;

namespace {

const std::string kCases = std::string(SAESCOPE_FIXTURES_DIR) + "/sae_formats";
const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/sae_formats";

struct Case {
  std::string name, dir;
  json expected;
  std::string sae_path() const { return dir + "/" + expected.at("sae_path").get<std::string>(); }
  at::Tensor reference(const char* tensor) const {
    return io::SafetensorsFile::open(dir + "/reference.safetensors")->tensor(tensor).to(at::kFloat).clone();
  }
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& e : fs::directory_iterator(kCases)) {
    if (!fs::exists(e.path() / "expected.json")) continue;
    std::ifstream in(e.path() / "expected.json");
    out.push_back({e.path().filename().string(), e.path().string(), json::parse(in)});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

// Within 1e-5 of the reference, relative to its largest magnitude when that is above 1.
bool close(const at::Tensor& got, const at::Tensor& want, std::string* why) {
  if (got.sizes() != want.sizes()) {
    *why = "shape " + c10::str(got.sizes()) + " vs " + c10::str(want.sizes());
    return false;
  }
  const double scale = std::max(1.0, want.abs().max().item<double>());
  const double diff = (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
  *why = "max |diff| " + std::to_string(diff) + " (scale " + std::to_string(scale) + ")";
  return diff <= 1e-5 * scale;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

struct CliResult {
  int code;
  std::string out, err;
};

CliResult cli(const QStringList& args) {
  QProcess p;
  p.start(SAESCOPE_CLI_PATH, args);
  p.waitForFinished(120000);
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

void check_outputs(const Case& c, const at::Tensor& features, const at::Tensor& recon) {
  std::string why;
  QVERIFY2(close(features, c.reference("features"), &why), (c.name + " features: " + why).c_str());
  QVERIFY2(close(recon, c.reference("reconstruction"), &why), (c.name + " reconstruction: " + why).c_str());
}

}  // namespace

class TestSaeFormats : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    fs::create_directories(kOut);
    QVERIFY2(cases().size() >= 10, "the release fixtures are missing (tools/make_sae_format_fixtures.py)");
  }

  // Each layout is detected, described as the release says, and computes
  // what the release's own code computes.
  void everyLayoutMatchesItsReference() {
    for (const Case& c : cases()) {
      const json& e = c.expected;
      Sae sae;
      try {
        sae = open_sae(c.sae_path());
      } catch (const std::exception& ex) {
        QFAIL((c.name + ": " + ex.what()).c_str());
      }
      const SaeConfig& cfg = sae.config();
      QVERIFY2(cfg.format == e.at("format").get<std::string>(), (c.name + ": format " + cfg.format).c_str());
      QCOMPARE(cfg.d_in, e.at("d_in").get<int64_t>());
      QCOMPARE(cfg.d_sae, e.at("d_sae").get<int64_t>());
      QCOMPARE(sae.d_out(), e.at("d_out").get<int64_t>());
      QVERIFY2(cfg.meta.hook_name == e.at("hook_in").get<std::string>(), (c.name + ": hook in " + cfg.meta.hook_name).c_str());
      QVERIFY2(cfg.output_hook() == e.at("hook_out").get<std::string>(), (c.name + ": hook out " + cfg.output_hook()).c_str());
      const std::string kind = e.at("kind").get<std::string>();
      QVERIFY2(sae.is_transcoder() == (kind != "sae"), (c.name + ": kind " + kind).c_str());
      QVERIFY2(cfg.skip_connection == (kind == "skip_transcoder"), (c.name + ": skip").c_str());
      if (e.contains("k")) QCOMPARE(cfg.k, e.at("k").get<int64_t>());
      const SaeOutput out = sae.forward(c.reference("activations"));
      check_outputs(c, out.features, out.reconstruction);
    }
  }

  // Whatever the layout, the SAE saves as a SAELens folder and reads back
  // with the same hooks and the same outputs.
  void everyLayoutRoundTripsThroughSaeLens() {
    for (const Case& c : cases()) {
      const Sae sae = open_sae(c.sae_path());
      const std::string dir = kOut + "/roundtrip/" + c.name;
      save_sae(sae, dir);
      const Sae back = open_sae(dir);
      QCOMPARE(back.config().format, std::string("saelens"));
      QCOMPARE(back.config().meta.hook_name, sae.config().meta.hook_name);
      QCOMPARE(back.config().output_hook(), sae.config().output_hook());
      QCOMPARE(back.is_transcoder(), sae.is_transcoder());
      const SaeOutput out = back.forward(c.reference("activations"));
      check_outputs(c, out.features, out.reconstruction);
    }
  }

  void saeInfoSaysWhatWasDetected() {
    for (const Case& c : cases()) {
      const CliResult r = cli({"sae-info", QString::fromStdString(c.sae_path()), "--json"});
      QVERIFY2(r.code == 0, (c.name + ": " + r.err).c_str());
      const json j = json::parse(r.out);
      for (const char* key : {"format", "d_in", "d_sae", "d_out", "hook_in", "hook_out", "kind"})
        QVERIFY2(j.at(key) == c.expected.at(key), (c.name + ": " + key + " " + j.at(key).dump()).c_str());
      QVERIFY(j.at("assumptions").is_array());
      QVERIFY(j.contains("normalization") && j.contains("dtype") && j.contains("architecture"));
    }
  }

  void encodeWorksOnEveryLayout() {
    for (const Case& c : cases()) {
      const std::string out = kOut + "/encoded_" + c.name + ".safetensors";
      fs::remove(out);
      const CliResult r = cli({"encode", "--sae", QString::fromStdString(c.sae_path()), "--in",
                               QString::fromStdString(c.dir + "/reference.safetensors"), "--out",
                               QString::fromStdString(out), "--batch", "5"});
      QVERIFY2(r.code == 0, (c.name + ": " + r.err).c_str());
      auto f = io::SafetensorsFile::open(out);
      check_outputs(c, f->tensor("features"), f->tensor("reconstruction"));
    }
  }

  // --hook replaces what the path implies, and says so.
  void hookOverride() {
    for (const Case& c : cases()) {
      if (c.expected.at("format") != "gemma_scope") continue;
      LoadOptions o;
      o.hook = "blocks.1.hook_resid_pre";
      const Sae sae = open_sae(c.sae_path(), o);
      QCOMPARE(sae.config().meta.hook_name, o.hook);
      QCOMPARE(*sae.config().meta.hook_layer, int64_t(1));
      bool noted = false;
      for (const auto& a : sae.config().assumptions) noted = noted || a.find("--hook") != std::string::npos;
      QVERIFY(noted);
      return;
    }
    QFAIL("no gemma_scope case");
  }

  // Gemma Scope's embedding SAEs read hook_embed, which is after Gemma's
  // √d_model scale; the release was trained before it. Same features on the
  // scaled input, and the release's reconstruction, scaled.
  void gemmaScopeEmbeddingIsRescaled() {
    const Case* res = nullptr;
    const std::vector<Case> all = cases();
    for (const Case& c : all)
      if (c.name == "gemma_scope_res") res = &c;
    QVERIFY(res);
    const fs::path dir = fs::path(kOut) / "gemma-scope-2b-pt-res" / "embedding" / "width_4k" / "average_l0_6";
    fs::create_directories(dir);
    fs::copy_file(res->sae_path(), dir / "params.npz", fs::copy_options::overwrite_existing);
    const Sae sae = open_sae(dir.string());
    QCOMPARE(sae.config().meta.hook_name, std::string("hook_embed"));
    const double s = std::sqrt(double(sae.d_in()));
    const SaeOutput out = sae.forward(res->reference("activations") * s);
    std::string why;
    QVERIFY2(close(out.features, res->reference("features"), &why), why.c_str());
    QVERIFY2(close(out.reconstruction, res->reference("reconstruction") * s, &why), why.c_str());
  }

  // ---- refusals ---------------------------------------------------------------
  void folderMatchingNoLayoutListsTheLayouts() {
    const std::string dir = kOut + "/not_an_sae";
    fs::create_directories(dir);
    std::ofstream(dir + "/weights.bin") << "x";
    const std::string msg = error_of([&] { open_sae(dir); });
    VERIFY_MESSAGE(msg, dir, "not an SAE", "SAELens", "cfg.json", "Gemma Scope", "params.npz", "Llama Scope",
                   "hyperparams.json", "sparsify", "sae.safetensors", "dictionary_learning", "ae.pt", "OpenAI");
    VERIFY_MESSAGE(error_of([&] { open_sae(""); }), "empty");
    VERIFY_MESSAGE(error_of([&] { open_sae(kOut + "/missing"); }), "missing", "no such file");
  }

  void ptThatIsNotAZipIsRefused() {
    const std::string file = kOut + "/not_zip.pt";
    std::ofstream(file) << "this is not a zip archive";
    VERIFY_MESSAGE(error_of([&] { open_sae(file); }), file, "zip");
  }

  // Release files that would run code or hold Python objects are refused by
  // name, through every reader, and nothing runs.
  void hostileFilesAreRefusedWithoutRunningAnything() {
    const std::string wf = std::string(SAESCOPE_FIXTURES_DIR) + "/weights_files";
    const fs::path here = fs::current_path();
    const fs::path scratch = fs::path(kOut) / "hostile";
    fs::create_directories(scratch);
    fs::current_path(scratch);  // where the payloads would `touch` their marker
    struct Hostile {
      const char* fixture;
      std::string as;
      std::vector<std::string> says;
    };
    const std::vector<Hostile> files = {
        {"hostile_os_system.pt", "resid_post_mlp_v5_32k/autoencoders/6.pt", {"os", "system"}},
        {"hostile_builtins_eval.pt", "resid_post_mlp_v5_32k/autoencoders/7.pt", {"builtins", "eval"}},
        {"hostile_ordereddict_arg.pt", "trainer_0/ae.pt", {"OrderedDict"}},
        {"object.npz", "gemma-scope-2b-pt-res/layer_1/width_16k/average_l0_9/params.npz", {"object"}},
    };
    for (const Hostile& h : files) {
      const fs::path dst = scratch / h.as;
      fs::create_directories(dst.parent_path());
      fs::copy_file(fs::path(wf) / h.fixture, dst, fs::copy_options::overwrite_existing);
      if (dst.filename() == "ae.pt")
        std::ofstream(dst.parent_path() / "config.json")
            << R"({"trainer": {"dict_class": "AutoEncoder", "submodule_name": "resid_post_layer_1"}})";
      std::vector<std::string> parts = {dst.string()};
      parts.insert(parts.end(), h.says.begin(), h.says.end());
      const std::string msg = error_of([&] { open_sae(dst.string()); });
      for (const std::string& p : parts) QVERIFY2(msg.find(p) != std::string::npos, (p + " not in: " + msg).c_str());
    }
    bool ran = false;
    for (const auto& e : fs::directory_iterator(scratch)) ran = ran || e.path().filename().string().rfind("saescope_pwned", 0) == 0;
    fs::current_path(here);
    QVERIFY2(!ran, "a hostile pickle ran its payload");
  }

  // An SAE that does not fit the loaded model: its width, or a hook the
  // model's family does not have, named with the file.
  void anSaeThatDoesNotFitTheModelIsRefused() {
    const std::string families = std::string(SAESCOPE_FIXTURES_DIR) + "/model/families";
    const std::string tok = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
    const std::string corpus = kOut + "/fit.txt";
    std::ofstream(corpus) << "the bank of the river\nmoney in the bank\n";
    const fs::path wide = fs::path(kOut) / "fit/gemma-scope-2b-pt-res/layer_1/width_16k/average_l0_20/params.npz";
    fs::create_directories(wide.parent_path());
    for (const Case& c : cases())
      if (c.name == "gemma_scope_res") fs::copy_file(c.sae_path(), wide, fs::copy_options::overwrite_existing);
    const CliResult w = cli({"sae-eval", "--model", QString::fromStdString(families + "/gemma2"), "--tokenizer",
                             QString::fromStdString(tok), "--sae", QString::fromStdString(wide.string()), "--corpus",
                             QString::fromStdString(corpus)});
    QCOMPARE(w.code, 2);
    VERIFY_MESSAGE(w.err, wide.string(), "16-dimensional", "has 48");
    for (const Case& c : cases()) {
      if (c.name != "gemma_scope_2_transcoder_affine") continue;
      const CliResult f = cli({"sae-eval", "--model", QString::fromStdString(families + "/llama3"), "--tokenizer",
                               QString::fromStdString(tok), "--sae", QString::fromStdString(c.sae_path()), "--corpus",
                               QString::fromStdString(corpus)});
      QCOMPARE(f.code, 2);
      VERIFY_MESSAGE(f.err, c.sae_path(), "post_feedforward_layernorm", "not a hook point of this llama model");
    }
  }

  void shapesInconsistentWithTheConfigAreRefused() {
    for (const Case& c : cases()) {
      if (c.expected.at("format") != "sparsify") continue;
      const std::string dir = kOut + "/sparsify_bad/" + fs::path(c.sae_path()).filename().string();
      fs::remove_all(dir);
      fs::create_directories(dir);
      fs::copy(c.sae_path(), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
      json cfg;
      {
        std::ifstream in(dir + "/cfg.json");
        cfg = json::parse(in);
      }
      cfg["d_in"] = cfg.value("d_in", 0) + 1;
      std::ofstream(dir + "/cfg.json") << cfg.dump();
      VERIFY_MESSAGE(error_of([&] { open_sae(dir); }), "cfg.json", "d_in");
      return;
    }
    QFAIL("no sparsify case");
  }
};

QTEST_GUILESS_MAIN(TestSaeFormats)
#include "test_sae_formats.moc"
