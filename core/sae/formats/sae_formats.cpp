#include "core/sae/formats/sae_formats.h"

#include <filesystem>

#include "core/common/error.h"
#include "core/sae/formats/readers.h"

namespace saescope::sae {

const std::vector<SaeFormat>& sae_formats() {
  // Most specific first: several layouts are "a folder with a cfg.json".
  static const std::vector<SaeFormat> formats = {
      saelens_format(),      gemma_scope_2_format(),       gemma_scope_format(), llama_scope_format(),
      sparsify_format(),     dictionary_learning_format(), openai_format(),
  };
  return formats;
}

const SaeFormat* find_sae_format(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return nullptr;
  for (const SaeFormat& f : sae_formats())
    if (f.claims(path)) return &f;
  return nullptr;
}

const SaeFormat& detect_sae_format(const std::string& path) {
  if (path.empty()) throw InputError("SAE: the path is empty (name an SAE folder or file)");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path + ": no such file or folder");
  for (const SaeFormat& f : sae_formats())
    if (f.claims(path)) return f;
  std::string msg = path + ": not an SAE in any layout SAEScope reads. It reads:";
  for (const SaeFormat& f : sae_formats()) msg += std::string("\n  ") + f.title + ": " + f.needs;
  throw InputError(msg);
}

Sae open_sae(const std::string& path, const LoadOptions& options) {
  const SaeFormat& format = detect_sae_format(path);
  Sae sae = format.read(path, options);
  sae.mutable_config().format = format.name;
  return sae;
}

}  // namespace saescope::sae
