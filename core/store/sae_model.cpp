#include "core/store/sae_model.h"

namespace saescope::store {

std::optional<InputRecord> model_for_sae(Workspace& ws, int64_t sae_id) {
  const auto results = ws.results();  // oldest first
  for (auto r = results.rbegin(); r != results.rend(); ++r)
    if (r->sae_id == sae_id && r->model_id)
      if (auto model = ws.input(*r->model_id)) return model;
  return newest_model(ws);
}

std::optional<InputRecord> newest_model(Workspace& ws) {
  auto models = ws.inputs(InputKind::Model);  // by id: the order they were added
  if (models.empty()) return std::nullopt;
  return std::move(models.back());
}

}  // namespace saescope::store
