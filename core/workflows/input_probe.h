#pragma once
// What a path the user points at is — a GPT-2 model folder, a SAELens SAE
// folder, a text corpus or a sense dataset — with the config summary the
// workspace keeps for it. Used for drag-and-drop in the GUI and by the CLI.
#include <nlohmann/json.hpp>
#include <string>

#include "core/store/workspace.h"

namespace saescope::sae {
struct SaeConfig;
}

namespace saescope::jobs {

struct ProbedInput {
  store::InputKind kind = store::InputKind::Model;
  nlohmann::json config;  // model: n_layer, n_embd, ...; sae: hook_name, architecture, d_sae, ...
  std::string description;  // one line for people
};

// What the workspace keeps about an SAE: hook_name, architecture, d_in, d_sae,
// model_name, center_writing_weights, layer, and its sparsity setting — k
// (topk, batchtopk), l1_coefficient (standard, gated) or l0_coefficient
// (jumprelu), from cfg.json's top level or its metadata block as written
// (`raw_cfg`), since SaeConfig keeps only what running the SAE needs.
nlohmann::json sae_input_config(const sae::SaeConfig& c, const nlohmann::json& raw_cfg);
// An SAE folder's cfg.json as written; an empty object for layouts without
// one. (Discarded JSON when unreadable: the caller has read it with
// sae::read_sae_config, which names the problem.)
nlohmann::json read_raw_sae_cfg(const std::string& sae_dir);

// Throws InputError naming the path and why it is none of the four kinds.
ProbedInput probe_input(const std::string& path);

// probe_input + Workspace::register_input; returns the input id.
int64_t register_probed(store::Workspace& ws, const std::string& path, ProbedInput* probed = nullptr);

}  // namespace saescope::jobs
