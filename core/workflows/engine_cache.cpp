#include "core/workflows/engine_cache.h"

#include <filesystem>

#include "core/model/model_registry.h"
#include "core/model/model_options.h"
#include "core/sae/formats/sae_formats.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::jobs {
namespace {
std::string canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}
}  // namespace

// The cached value under `key`, else `load()`'s, kept. Loading runs outside
// the lock (it is slow); two threads loading one key keep the first.
template <typename T, typename Load>
std::shared_ptr<const T> EngineCache::find_or_load(std::map<std::string, std::shared_ptr<const T>>& cache,
                                                   const std::string& key, Load&& load) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  std::shared_ptr<const T> loaded = load();
  std::lock_guard<std::mutex> lock(mutex_);
  return cache.emplace(key, std::move(loaded)).first->second;
}

std::shared_ptr<const model::LanguageModel> EngineCache::model(const std::string& dir,
                                                               const model::ModelOptions& options) {
  const std::string key = canonical(dir) + "|" + options.device.str() + "|" +
                          model::dtype_name(options.dtype) + "|" +
                          (options.center_writing_weights ? "centred" : "raw") +
                          (options.fold_value_biases ? "|fvb" : "");
  return find_or_load(models_, key, [&] { return model::load_language_model(dir, options); });
}

std::shared_ptr<const sae::Sae> EngineCache::sae(const std::string& dir) {
  return find_or_load(saes_, canonical(dir), [&] { return std::make_shared<const sae::Sae>(sae::open_sae(dir)); });
}

std::shared_ptr<const tokenizer::BpeTokenizer> EngineCache::tokenizer(const std::string& dir) {
  return find_or_load(tokenizers_, canonical(dir), [&] {
    return std::make_shared<const tokenizer::BpeTokenizer>(tokenizer::load_tokenizer(dir));
  });
}

void EngineCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  models_.clear();
  saes_.clear();
  tokenizers_.clear();
}

}  // namespace saescope::jobs
