#include "core/model/hook_plan.h"

#include <ATen/ATen.h>

#include "core/common/error.h"
#include "core/model/kv_cache.h"

namespace saescope::model {
namespace {

at::Tensor flat_heads(const at::Tensor& t) { return t.flatten(-2); }  // [.., H, Dh] -> [.., H·Dh]

}  // namespace

HookPlan::HookPlan(const RunRequest& request, const HookSchema& schema)
    : n_layer_(schema.n_layer()),
      sites_(static_cast<size_t>(hook_point_count(schema.n_layer()))),
      cache_(request.cache),
      past_(request.cache ? request.cache->length() : 0),
      run_to_logits_(request.cache != nullptr) {
  for (const std::string& name : request.hooks) {
    const HookInfo h = schema.resolve(name);
    Site& site = sites_[static_cast<size_t>(h.point.order(n_layer_))];
    bool asked = false;
    for (const Keep& k : site.keep) asked = asked || k.name == name;
    if (asked) continue;
    if (site.keep.empty()) ++missing_;
    site.keep.push_back({name, h.flatten_heads});
  }
  for (const auto& [name, fn] : request.replace) {
    const HookInfo h = schema.resolve(name);
    Site& site = sites_[static_cast<size_t>(h.point.order(n_layer_))];
    if (site.replace) throw InputError("hook point '" + name + "' is replaced twice");
    site.replace = &fn;
    site.replace_flat = h.flatten_heads;
  }
}

at::Tensor HookPlan::at(HookKind kind, int layer, at::Tensor value) {
  if (kind == HookKind::Logits) run_to_logits_ = false;
  const HookPoint where{kind, layer};
  const Site& site = sites_[static_cast<size_t>(where.order(n_layer_))];
  if (site.replace) {
    const at::Tensor seen = site.replace_flat ? flat_heads(value) : value;
    at::Tensor replaced = (*site.replace)(seen, where);
    if (!replaced.defined() || replaced.sizes() != seen.sizes())
      throw InputError("the replacement at hook point '" + where.name() + "' returned shape " +
                       (replaced.defined() ? c10::str(replaced.sizes()) : std::string("(none)")) +
                       ", the hook's value has shape " + c10::str(seen.sizes()));
    value = replaced.to(value.device(), value.scalar_type()).reshape(value.sizes());
  }
  if (!site.keep.empty()) {
    for (const Keep& k : site.keep) values_[k.name] = k.flatten ? flat_heads(value) : value;
    --missing_;
  }
  return value;
}

}  // namespace saescope::model
