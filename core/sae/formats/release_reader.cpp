#include "core/sae/formats/release_reader.h"

#include <filesystem>

namespace saescope::sae {

namespace fs = std::filesystem;

SaeConfig release_config(Architecture arch, const std::string& format_title) {
  SaeConfig c;
  c.architecture = arch;
  c.apply_b_dec_to_input = false;
  // These releases read the model's activations as its own code computes
  // them: no centred writing weights, no folded value biases.
  c.center_writing_weights = false;
  c.center_writing_weights_source = "the " + format_title + " layout (the model's own activations)";
  c.fold_value_biases = false;
  c.meta.sae_lens_version = "6.0.0";
  return c;
}

std::optional<std::string> file_in(const std::string& path, const std::string& name) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    if (name.empty() || fs::path(path).filename() == name) return path;
    return std::nullopt;
  }
  if (fs::is_directory(path, ec) && !name.empty() && fs::is_regular_file(fs::path(path) / name, ec))
    return (fs::path(path) / name).string();
  return std::nullopt;
}

std::vector<std::string> path_components(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path), ec).lexically_normal();
  for (const auto& part : p)
    if (!part.empty() && part != "/") out.push_back(part.string());
  return out;
}

}  // namespace saescope::sae
