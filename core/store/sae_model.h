#pragma once
// Which model goes with an SAE, decided once for the app's actions, its
// views, the evaluation table and the CLI.
#include <cstdint>
#include <optional>

#include "core/store/workspace.h"

namespace saescope::store {

// The model an SAE runs with: the one its newest result (a harvest, an
// evaluation) was computed on, so it reads the activations it was read on
// before; else the workspace's newest model, the one added last and most
// likely added for it. nullopt when the workspace has no model.
std::optional<InputRecord> model_for_sae(Workspace& ws, int64_t sae_id);

// The model a new SAE trains on when none is named: the newest added.
std::optional<InputRecord> newest_model(Workspace& ws);

}  // namespace saescope::store
