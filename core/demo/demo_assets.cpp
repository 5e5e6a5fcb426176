#include "core/demo/demo_assets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/common/error.h"

namespace saescope::demo {
namespace fs = std::filesystem;

DemoAssets read_demo_assets(const std::string& root) {
  const fs::path r(root);
  DemoAssets a;
  a.root = root;
  a.model_dir = (r / "model").string();
  a.corpus = (r / "corpus" / "demo_corpus.jsonl").string();
  if (!fs::is_regular_file(r / "model" / "config.json") ||
      !fs::is_regular_file(r / "model" / "model.safetensors"))
    throw InputError(root + ": no demo model (model/config.json and model/model.safetensors)");
  if (!fs::is_regular_file(a.corpus)) throw InputError(a.corpus + ": the demo corpus is missing");
  std::error_code ec;
  for (fs::directory_iterator it(r / "saes", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory() && fs::is_regular_file(it->path() / "cfg.json"))
      a.sae_dirs.push_back(it->path().string());
  if (a.sae_dirs.empty()) throw InputError(root + "/saes: no demo SAEs (folders with cfg.json)");
  std::sort(a.sae_dirs.begin(), a.sae_dirs.end());
  return a;
}

DemoAssets find_demo_assets(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return read_demo_assets(explicit_dir);
  // An explicit folder is the only place looked at: a wrong one is an error,
  // never silently replaced by another demo.
  if (const char* env = std::getenv("SAESCOPE_DEMO_DIR"); env && *env) {
    try {
      return read_demo_assets(env);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (from SAESCOPE_DEMO_DIR)");
    }
  }
  std::vector<std::string> places;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) places.push_back((exe.parent_path().parent_path() / "share/saescope/demo").string());
#ifdef SAESCOPE_DEMO_SOURCE_DIR
  places.push_back(SAESCOPE_DEMO_SOURCE_DIR);
#endif
  std::string looked;
  for (const std::string& p : places) {
    try {
      return read_demo_assets(p);
    } catch (const InputError& e) {
      looked += std::string("\n  ") + e.what();
    }
  }
  throw InputError("the embedded demo was not found (set SAESCOPE_DEMO_DIR to its folder); looked at:" +
                   looked);
}

}  // namespace saescope::demo
