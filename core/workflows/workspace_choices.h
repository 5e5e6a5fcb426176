#pragma once
// What goes with what in a workspace when the user has not said: the model
// an SAE runs with, the model a new SAE trains on, the windows' length and
// the hook a new SAE trains at. Decided here once, so the app's actions, its
// views and the CLI never pick differently.
#include <cstdint>
#include <optional>
#include <string>

#include "core/store/workspace.h"

namespace saescope::workflows {

// The model an SAE runs with: the one its newest result (a harvest, an
// evaluation) was computed on, so it reads the activations it was read on
// before; else the workspace's newest model, the one added last and most
// likely added for it. nullopt when the workspace has no model.
std::optional<store::InputRecord> model_for_sae(store::Workspace& ws, int64_t sae_id);

// The model a new SAE trains on when none is named: the newest added.
std::optional<store::InputRecord> newest_model(store::Workspace& ws);

// Token windows for harvests and evaluations: 128 tokens, or the model's
// whole context when shorter. InputError naming the folder when its config
// is unreadable.
int64_t default_context(const std::string& model_dir);

// Where a new SAE trains when no hook is picked: the residual stream halfway
// through the model (model::middle_residual_hook).
std::string default_training_hook(const store::InputRecord& model);

}  // namespace saescope::workflows
