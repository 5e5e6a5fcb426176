#pragma once
// What one forward pass is asked for: hook values to return, and hook values
// to replace (an SAE's reconstruction spliced in, zeros for ablation...).
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/model/hook_point.h"

namespace saescope::model {

class KvCache;

// Gets the value at a hook point, returns the value the model continues with
// (same shape; converted to the model's dtype and device if it differs).
using HookFn = std::function<at::Tensor(const at::Tensor& value, const HookPoint& where)>;

struct RunRequest {
  std::vector<std::string> hooks;                         // names to return
  std::vector<std::pair<std::string, HookFn>> replace;    // name -> replacement
  // Given: the tokens continue the positions this cache holds, and their keys
  // and values join it; the pass runs to the logits (kv_cache.h). Hook values
  // and replacements see the new positions only.
  KvCache* cache = nullptr;
};

struct RunResult {
  // Exactly the asked hooks, by name. A value is what flows on from that
  // point: after its replacement, if any. It may be a view (not contiguous).
  // Values from Gpt2::run() are inference tensors: clone() one before autograd
  // is to save it for backward (e.g. as an SAE's training input).
  std::map<std::string, at::Tensor> hooks;
  // How much of the model ran: the forward pass stops once every asked hook
  // has its value (replacements beyond that point have no effect).
  int blocks_computed = 0;   // blocks whose attention ran
  bool ran_final_ln = false;
  bool ran_unembed = false;
};

}  // namespace saescope::model
