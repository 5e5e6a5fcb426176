#pragma once
// A model's summary as the workspace keeps it for an input (store inputs'
// config): one spelling for the probe and every job that registers a model.
#include <nlohmann/json.hpp>

#include "core/model/model_info.h"

namespace saescope::model {

inline nlohmann::json model_summary_json(const ModelInfo& c) {
  return {{"model_type", c.model_type}, {"family", c.family},       {"name", c.name},
          {"n_layer", c.n_layer},       {"n_embd", c.d_model},      {"n_head", c.n_head},
          {"n_kv_head", c.n_kv_head},   {"d_head", c.d_head},       {"d_mlp", c.d_mlp},
          {"n_positions", c.n_positions}, {"vocab_size", c.vocab_size},
          {"bos_token_id", c.bos_token_id}, {"prepend_bos", c.prepend_bos}};
}

}  // namespace saescope::model
