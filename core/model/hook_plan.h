#pragma once
// A RunRequest compiled for one forward pass: per hook point, whether to keep
// its value and which replacement to apply, looked up by position so that a
// site nobody asked for costs one vector read. A family's forward calls at()
// at each of its hook points, in order.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "core/model/hook_schema.h"
#include "core/model/run_request.h"

namespace saescope::model {

class HookPlan {
 public:
  // InputError for a name that is not a hook point of this schema.
  HookPlan(const RunRequest& request, const HookSchema& schema);

  // The value the forward pass continues with at this hook point: the
  // replacement's output if one is set, else `value`; kept if it was asked for.
  at::Tensor at(HookKind kind, int layer, at::Tensor value);

  // Every asked hook has its value: nothing further needs computing (with a
  // cache, not before the logits: every layer must add its keys).
  bool complete() const { return missing_ == 0 && !run_to_logits_; }

  KvCache* cache() const { return cache_; }
  int64_t past() const { return past_; }  // positions before this run's first (the cache's length)

  std::map<std::string, at::Tensor> take_values() { return std::move(values_); }

 private:
  struct Keep {
    std::string name;     // as asked
    bool flatten = false; // a module path seeing heads flattened
  };
  struct Site {
    std::vector<Keep> keep;
    const HookFn* replace = nullptr;
    bool replace_flat = false;
  };
  int64_t n_layer_;
  std::vector<Site> sites_;  // by HookPoint::order()
  int missing_ = 0;
  KvCache* cache_ = nullptr;
  int64_t past_ = 0;
  bool run_to_logits_ = false;
  std::map<std::string, at::Tensor> values_;
};

}  // namespace saescope::model
