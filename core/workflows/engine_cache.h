#pragma once
// Loaded models, SAEs and tokenizers, kept between jobs so a second question
// about the same checkpoint costs no reload. Thread-safe: jobs run on worker
// threads. Keys include the load options, so a model loaded with
// center_writing_weights is never handed to an SAE that expects raw weights.
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace saescope::model {
class LanguageModel;
struct ModelOptions;
}  // namespace saescope::model
namespace saescope::sae {
class Sae;
}
namespace saescope::tokenizer {
class BpeTokenizer;
}

namespace saescope::jobs {

class EngineCache {
 public:
  std::shared_ptr<const model::LanguageModel> model(const std::string& dir, const model::ModelOptions& options);
  std::shared_ptr<const sae::Sae> sae(const std::string& dir);
  std::shared_ptr<const tokenizer::BpeTokenizer> tokenizer(const std::string& dir);
  void clear();

 private:
  template <typename T, typename Load>
  std::shared_ptr<const T> find_or_load(std::map<std::string, std::shared_ptr<const T>>& cache,
                                        const std::string& key, Load&& load);

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const model::LanguageModel>> models_;
  std::map<std::string, std::shared_ptr<const sae::Sae>> saes_;
  std::map<std::string, std::shared_ptr<const tokenizer::BpeTokenizer>> tokenizers_;
};

}  // namespace saescope::jobs
