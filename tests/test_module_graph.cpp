// The engine's shape, checked on its sources: each core module includes only
// the modules below it (the table here is the one place that says which),
// so there are no include cycles; core includes no Qt; and outside
// core/model no file names a model family.
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(SAESCOPE_FIXTURES_DIR).parent_path().parent_path();

// Module -> the modules it may include, lowest first. Data flows up this list:
// files -> model -> activations (corpus windows) -> SAE codes -> statistics /
// senses -> the use cases that tie them to the workspace -> the demo.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"common", {}},
    {"io", {"common"}},
    {"tokenizer", {"common"}},
    {"store", {"common"}},
    {"distributed", {"common"}},
    {"model", {"common", "io", "tokenizer"}},
    {"corpus", {"common", "model", "tokenizer"}},
    {"sae", {"common", "io", "model", "corpus", "distributed"}},
    {"analysis", {"common", "io", "tokenizer", "store", "model", "corpus", "sae", "distributed"}},
    {"polysemy", {"common", "io", "tokenizer", "store", "model", "corpus", "sae", "distributed"}},
    {"workflows", {"common", "io", "tokenizer", "store", "model", "corpus", "sae", "analysis", "polysemy", "distributed"}},
    {"demo", {"common", "io", "tokenizer", "store", "model", "corpus", "sae", "analysis", "polysemy", "workflows", "distributed"}},
};

std::vector<fs::path> sources(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".h" || e.path().extension() == ".cpp"))
      out.push_back(e.path());
  return out;
}

std::string module_of(const fs::path& file) {  // core/<module>/...
  return fs::relative(file, kSource / "core").begin()->string();
}

}  // namespace

class TestModuleGraph : public QObject {
  Q_OBJECT
 private slots:
  void everyModuleIsInTheTable() {
    for (const auto& e : fs::directory_iterator(kSource / "core"))
      if (e.is_directory())
        QVERIFY2(kAllowed.count(e.path().filename().string()),
                 qPrintable("core/" + QString::fromStdString(e.path().filename().string()) +
                            " is not in the module table (tests/test_module_graph.cpp)"));
  }

  void coreIncludesOnlyTheModulesBelow() {
    const std::regex include("^\\s*#\\s*include\\s*\"core/(\\w+)/");
    const std::regex qt("^\\s*#\\s*include\\s*<Q[A-Za-z]*>");
    QStringList wrong;
    for (const fs::path& file : sources(kSource / "core")) {
      const std::string mod = module_of(file);
      std::ifstream in(file);
      int n = 0;
      for (std::string line; std::getline(in, line);) {
        ++n;
        std::smatch m;
        const std::string where = fs::relative(file, kSource).string() + ":" + std::to_string(n);
        if (std::regex_search(line, m, include) && m[1] != mod && !kAllowed.at(mod).count(m[1]))
          wrong << QString::fromStdString(where + " (" + mod + ") includes core/" + m[1].str());
        if (std::regex_search(line, qt)) wrong << QString::fromStdString(where + " includes Qt");
      }
    }
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong.join('\n')));
  }

  // A new family is one folder in core/model and one registry line: nothing
  // else may know the families by name.
  void outsideCoreModelNoFileNamesAFamily() {
    const std::regex family(
        "core/model/(gpt2|gpt_neox|llama|gemma)/|\\b(Gpt2|GptNeox|Llama|Gemma)(Config|Weights|Block)?\\b|load_gpt2_");
    QStringList wrong;
    for (const char* dir : {"core", "app", "ui"}) {
      if (!fs::exists(kSource / dir)) continue;
      for (const fs::path& file : sources(kSource / dir)) {
        const std::string rel = fs::relative(file, kSource).string();
        if (rel.rfind("core/model/", 0) == 0) continue;
        // The SAE release readers name releases ("Gemma Scope", "Llama Scope")
        // and the models they were trained on, as text; what they may include
        // is checked above like every module's.
        if (rel.rfind("core/sae/formats/", 0) == 0) continue;
        std::ifstream in(file);
        int n = 0;
        for (std::string line; std::getline(in, line);) {
          ++n;
          if (std::regex_search(line, family))
            wrong << QString::fromStdString(fs::relative(file, kSource).string() + ":" + std::to_string(n) + ": " + line);
        }
      }
    }
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong.join('\n')));
  }
};

QTEST_GUILESS_MAIN(TestModuleGraph)
#include "test_module_graph.moc"
