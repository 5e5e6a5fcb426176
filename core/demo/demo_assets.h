#pragma once
// Where the embedded demo lives: a small GPT-2 trained by SAEScope itself
// (resources/demo/model), its SAEs (resources/demo/saes/*) and a held-out
// corpus (resources/demo/corpus). Installed under /usr/share/saescope/demo;
// in a build tree, read from the source tree.
#include <string>
#include <vector>

namespace saescope::demo {

struct DemoAssets {
  std::string root;
  std::string model_dir;              // Hugging Face GPT-2 folder
  std::string corpus;                 // JSONL, {"text": ...} per line
  std::vector<std::string> sae_dirs;  // SAELens folders, sorted by name
};

// `explicit_dir` when given, else $SAESCOPE_DEMO_DIR when set (only there:
// InputError when it is not a demo), else the first complete demo (model,
// corpus and at least one SAE) of <executable>/../share/saescope/demo (an
// installed package) and the source tree this binary was built from;
// InputError naming every place looked at when neither holds one.
DemoAssets find_demo_assets(const std::string& explicit_dir = "");

// The same check for one folder; InputError saying what is missing.
DemoAssets read_demo_assets(const std::string& root);

}  // namespace saescope::demo
