// SAELens: a folder with cfg.json and sae_weights.safetensors (sae_folder.h).
#include <filesystem>

#include "core/sae/formats/readers.h"

namespace saescope::sae {

SaeFormat saelens_format() {
  return {"saelens", "SAELens", "a folder with cfg.json and sae_weights.safetensors",
          [](const std::string& path) {
            namespace fs = std::filesystem;
            std::error_code ec;
            const fs::path dir(path);
            if (!fs::is_directory(dir, ec)) return false;
            // A cfg.json without sparsify's sae.safetensors is SAELens's, so
            // load_sae names the missing weights file.
            return fs::exists(dir / "sae_weights.safetensors", ec) ||
                   (fs::exists(dir / "cfg.json", ec) && !fs::exists(dir / "sae.safetensors", ec));
          },
          [](const std::string& path, const LoadOptions& options) { return load_sae(path, options); }};
}

}  // namespace saescope::sae
