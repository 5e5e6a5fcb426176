#include "core/analysis/prompt_features.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "core/common/error.h"
#include "core/model/model_registry.h"
#include "core/sae/sae.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::analysis {

std::vector<TokenFeatures> prompt_features(const model::LanguageModel& model, const sae::Sae& sae,
                                           const tokenizer::BpeTokenizer& tokenizer,
                                           const std::string& text, int64_t top_n) {
  c10::InferenceMode inference;
  const std::string& hook = sae.config().meta.hook_name;
  if (hook.empty()) throw InputError(sae.source() + ": the SAE names no hook_name");
  const std::vector<int32_t> ids = tokenizer.encode_ids(text);
  if (ids.empty()) throw InputError("the prompt holds no token");
  const bool bos = sae::run_prepends_bos(model.info(), {{sae.source(), &sae.config()}});  // as the harvest's windows
  const model::TokenBatch batch =
      model::make_token_batch({std::vector<int64_t>(ids.begin(), ids.end())}, model.info(), bos);
  at::Tensor v = model.run(batch, {{hook}, {}}).hooks.at(hook)[0];  // [T, ...]
  if (v.dim() == 3) v = v.reshape({v.size(0), -1});                  // hook_z heads
  sae.expect_d_in(v.size(-1), hook);
  const at::Tensor f = sae.encode(v.to(sae.device())).to(at::kCPU);  // [T, d_sae]
  const int64_t n = std::min<int64_t>(std::max<int64_t>(top_n, 0), f.size(1));
  auto best = f.topk(n, 1, /*largest=*/true, /*sorted=*/true);
  const at::Tensor vals = std::get<0>(best).contiguous(), idx = std::get<1>(best).contiguous();
  const int64_t* token_ids = batch.ids.data_ptr<int64_t>();

  std::vector<TokenFeatures> out;
  for (int64_t t = 0; t < f.size(0); ++t) {
    TokenFeatures tf;
    tf.token_id = static_cast<int32_t>(token_ids[t]);
    tf.is_bos = bos && t == 0;
    tf.text = tf.token_id < tokenizer.vocab_size() ? tokenizer.token_string(tf.token_id) : std::string();
    for (int64_t r = 0; r < n; ++r) {
      const float a = vals[t][r].item<float>();
      if (a > 0) tf.top.emplace_back(idx[t][r].item<int64_t>(), a);
    }
    out.push_back(std::move(tf));
  }
  return out;
}

}  // namespace saescope::analysis
