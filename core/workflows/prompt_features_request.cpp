#include "core/workflows/prompt_features_request.h"

#include "core/common/progress.h"
#include "core/model/language_model.h"
#include "core/model/model_options.h"
#include "core/sae/sae.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/workflows/engine_cache.h"
#include "core/workflows/run_inputs.h"

namespace saescope::workflows {

std::vector<analysis::TokenFeatures> run_prompt_features(const PromptFeaturesRequest& r, jobs::EngineCache& engines,
                                                         jobs::ProgressSink& progress) {
  progress.report({"load", 0, 2, "steps", ""});
  const auto sae = engines.sae(r.sae_dir);
  const auto model = engines.model(r.model_dir, model_options_for({{r.sae_dir, &sae->config()}}, r.device));
  const auto tokenizer = engines.tokenizer(r.model_dir);
  progress.report({"run", 1, 2, "steps", ""});
  auto features = analysis::prompt_features(*model, *sae, *tokenizer, r.text, r.top_n);
  progress.report({"run", 2, 2, "steps", ""});
  return features;
}

}  // namespace saescope::workflows
