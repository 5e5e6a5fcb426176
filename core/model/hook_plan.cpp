#include "core/model/hook_plan.h"

#include <ATen/ATen.h>

#include "core/common/error.h"

namespace saescope::model {

HookPlan::HookPlan(const RunRequest& request, int64_t n_layer)
    : n_layer_(n_layer), sites_(static_cast<size_t>(hook_point_count(n_layer))) {
  for (const std::string& name : request.hooks) {
    Site& site = sites_[static_cast<size_t>(parse_hook_point(name, n_layer).order(n_layer))];
    if (!site.keep) ++missing_;
    site.keep = true;
  }
  for (const auto& [name, fn] : request.replace) {
    Site& site = sites_[static_cast<size_t>(parse_hook_point(name, n_layer).order(n_layer))];
    if (site.replace) throw InputError("hook point '" + name + "' is replaced twice");
    site.replace = &fn;
  }
}

at::Tensor HookPlan::at(HookKind kind, int layer, at::Tensor value) {
  const HookPoint where{kind, layer};
  const Site& site = sites_[static_cast<size_t>(where.order(n_layer_))];
  if (site.replace) {
    at::Tensor replaced = (*site.replace)(value, where);
    if (!replaced.defined() || replaced.sizes() != value.sizes())
      throw InputError("the replacement at hook point '" + where.name() + "' returned shape " +
                       (replaced.defined() ? c10::str(replaced.sizes()) : std::string("(none)")) +
                       ", the hook's value has shape " + c10::str(value.sizes()));
    value = replaced.to(value.device(), value.scalar_type());
  }
  if (site.keep) {
    values_[where.name()] = value;
    --missing_;
  }
  return value;
}

}  // namespace saescope::model
