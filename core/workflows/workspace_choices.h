#pragma once
// What a run takes when the user has not said: the windows' length and the
// hook a new SAE trains at (the model an SAE runs with: store/sae_model.h).
// Decided here once, so the app's actions, its views and the CLI never pick
// differently.
#include <cstdint>
#include <optional>
#include <string>

#include "core/store/workspace.h"

namespace saescope::workflows {

// Token windows for harvests and evaluations: 128 tokens, or the model's
// whole context when shorter. InputError naming the folder when its config
// is unreadable.
int64_t default_context(const std::string& model_dir);

// Where a new SAE trains when no hook is picked: the residual stream halfway
// through the model (model::middle_residual_hook).
std::string default_training_hook(const store::InputRecord& model);

}  // namespace saescope::workflows
