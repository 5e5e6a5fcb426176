#pragma once
// A family's hook points: which kinds of hook_point.h it has, how wide each
// is, which are residual-stream points, and its Hugging Face module paths
// (Gemma Scope 2's hf_hook_point_in/out, sparsify's hookpoints, SAELens's
// hf_hook_name) as aliases of them. Built once per loaded model.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/model/hook_point.h"
#include "core/model/model_info.h"

namespace saescope::model {

struct HookInfo {
  std::string name;           // the canonical (TransformerLens-style) name
  HookPoint point;
  int64_t width = 0;          // floats per position, heads flattened; 0: not per position (pattern)
  bool residual = false;      // the residual stream, or what a sublayer adds to it: d_model wide
  bool flatten_heads = false; // asked by a module path that sees [.., heads·d_head]
};

// A family's Hugging Face module paths, as data. A path names a module's
// output; a trailing ".output" may be written or left out, ".input" names the
// module's input. `in_layer` keys follow "<prefix>.L" ("" is the layer itself).
struct HfModulePaths {
  std::vector<std::string> layer_prefixes;                  // "model.layers", "layers"
  std::vector<std::pair<std::string, HookKind>> in_layer;   // "mlp" -> MlpOut, ...
  std::vector<std::pair<std::string, HookKind>> outside;    // "model.norm" -> LnFinalOut, ...
};

class HookSchema {
 public:
  HookSchema() = default;
  HookSchema(const ModelInfo& info, const std::vector<HookKind>& kinds, HfModulePaths hf);

  // Every hook under its canonical name, in forward order.
  const std::vector<HookInfo>& hooks() const { return hooks_; }
  std::vector<std::string> names() const;
  bool has(HookKind kind) const;
  int64_t n_layer() const { return n_layer_; }

  // A canonical name or a module path; nullopt when the family has no such hook.
  std::optional<HookInfo> find(const std::string& name) const;
  // As find(), but InputError naming the family and listing its hooks.
  HookInfo resolve(const std::string& name) const;
  // resolve(name).width, or InputError for a hook without one vector per
  // position (hook_pattern).
  int64_t per_token_width(const std::string& name) const;
  // The text InputErrors use: "hook_embed, blocks.L.{...} for L in 0..n-1, ...".
  std::string describe() const;

 private:
  std::optional<HookInfo> info_of(HookPoint point) const;
  std::optional<HookPoint> from_module_path(const std::string& name, bool* flatten) const;

  std::string family_;
  int64_t n_layer_ = 0;
  std::vector<bool> kind_present_;
  std::vector<int64_t> kind_width_;
  HfModulePaths hf_;
  std::vector<HookInfo> hooks_;
};

// The hooks every family has, for a model of `n_layer` blocks: what a
// workspace lists when its model's folder cannot be read (moved, another machine).
std::vector<std::string> common_hook_names(int64_t n_layer);

}  // namespace saescope::model
