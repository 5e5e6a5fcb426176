#include "core/workflows/run_inputs.h"

#include "core/common/error.h"
#include "core/sae/sae_config.h"

namespace saescope::workflows {

model::ModelOptions model_options_for(const std::vector<SaeRef>& saes, const std::string& device,
                                      const std::string& dtype, std::optional<bool> centring_override) {
  model::ModelOptions mo;
  mo.device = model::parse_device(device);
  mo.dtype = model::parse_dtype(dtype);
  // Folding value biases changes hook_v and hook_z only: asked for by SAEs there.
  const auto reads_values = [](const sae::SaeConfig& c) {
    const std::string& h = c.meta.hook_name;
    for (const std::string end : {"attn.hook_v", "attn.hook_z"})
      if (h.size() >= end.size() && h.compare(h.size() - end.size(), end.size(), end) == 0) return true;
    return false;
  };
  for (size_t i = 0; i < saes.size(); ++i) {
    const bool fold = reads_values(*saes[i].config) && saes[i].config->fold_value_biases;
    if (i == 0) mo.fold_value_biases = fold;
    else if (fold != mo.fold_value_biases)
      throw InputError(saes[i].source + ": expects fold_value_biases=" + (fold ? "true" : "false") + " but " +
                       saes.front().source + " expects the opposite; run them separately");
  }
  if (centring_override) {
    mo.center_writing_weights = *centring_override;
    return mo;
  }
  for (size_t i = 0; i < saes.size(); ++i) {
    const bool c = saes[i].config->center_writing_weights;
    if (i == 0) mo.center_writing_weights = c;
    else if (c != mo.center_writing_weights)
      throw InputError(saes[i].source + ": expects center_writing_weights=" + (c ? "true" : "false") + " but " +
                       saes.front().source + " expects the opposite; run them separately");
  }
  return mo;
}

}  // namespace saescope::workflows
