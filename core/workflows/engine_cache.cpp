#include "core/workflows/engine_cache.h"

#include <filesystem>

#include "core/model/model_registry.h"
#include "core/model/model_options.h"
#include "core/sae/sae_folder.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::jobs {
namespace {
std::string canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}
}  // namespace

std::shared_ptr<const model::LanguageModel> EngineCache::model(const std::string& dir,
                                                      const model::ModelOptions& options) {
  const std::string key = canonical(dir) + "|" + options.device.str() + "|" +
                          model::dtype_name(options.dtype) + "|" +
                          (options.center_writing_weights ? "centred" : "raw") +
                          (options.fold_value_biases ? "|fvb" : "");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = models_.find(key); it != models_.end()) return it->second;
  }
  auto loaded = model::load_language_model(dir, options);  // outside the lock: loading is slow
  std::lock_guard<std::mutex> lock(mutex_);
  return models_.emplace(key, std::move(loaded)).first->second;
}

std::shared_ptr<const sae::Sae> EngineCache::sae(const std::string& dir) {
  const std::string key = canonical(dir);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = saes_.find(key); it != saes_.end()) return it->second;
  }
  auto loaded = std::make_shared<const sae::Sae>(sae::load_sae(dir));
  std::lock_guard<std::mutex> lock(mutex_);
  return saes_.emplace(key, std::move(loaded)).first->second;
}

std::shared_ptr<const tokenizer::BpeTokenizer> EngineCache::tokenizer(const std::string& dir) {
  const std::string key = canonical(dir);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = tokenizers_.find(key); it != tokenizers_.end()) return it->second;
  }
  auto loaded = std::make_shared<const tokenizer::BpeTokenizer>(tokenizer::load_tokenizer(dir));
  std::lock_guard<std::mutex> lock(mutex_);
  return tokenizers_.emplace(key, std::move(loaded)).first->second;
}

void EngineCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  models_.clear();
  saes_.clear();
  tokenizers_.clear();
}

}  // namespace saescope::jobs
