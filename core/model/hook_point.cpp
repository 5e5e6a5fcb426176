#include "core/model/hook_point.h"

#include <cstdlib>

namespace saescope::model {
namespace {

// Names of the block hooks after "blocks.L.", indexed by kind - ResidPre.
const char* const kBlockSuffixes[kBlockHookKinds] = {
    "hook_resid_pre",  "ln1.hook_normalized",      "ln1.hook_out",
    "attn.hook_q",     "attn.hook_k",              "attn.hook_v",
    "attn.hook_pattern", "attn.hook_z",            "attn.hook_result_pre_norm",
    "hook_attn_out",   "hook_resid_mid",           "hook_mlp_in",
    "ln2.hook_normalized", "ln2.hook_out",         "mlp.hook_pre",
    "mlp.hook_pre_linear", "mlp.hook_post",        "mlp.hook_result_pre_norm",
    "hook_mlp_out",    "hook_resid_post"};

const char* const kOuterNames[] = {"hook_embed", "hook_pos_embed", "ln_final.hook_normalized",
                                   "ln_final.hook_out", "logits"};
const HookKind kOuterKinds[] = {HookKind::Embed, HookKind::PosEmbed, HookKind::LnFinalNormalized,
                                HookKind::LnFinalOut, HookKind::Logits};

}  // namespace

std::string HookPoint::name() const {
  if (!in_block()) {
    for (size_t i = 0; i < std::size(kOuterKinds); ++i)
      if (kOuterKinds[i] == kind) return kOuterNames[i];
  }
  return "blocks." + std::to_string(layer) + "." +
         kBlockSuffixes[static_cast<int>(kind) - static_cast<int>(HookKind::ResidPre)];
}

int HookPoint::order(int64_t n_layer) const {
  const int k = static_cast<int>(kind);
  if (kind == HookKind::Embed || kind == HookKind::PosEmbed) return k;
  if (!in_block())
    return kOuterHooksBefore + static_cast<int>(n_layer) * kBlockHookKinds +
           (k - static_cast<int>(HookKind::LnFinalNormalized));
  return kOuterHooksBefore + layer * kBlockHookKinds + (k - static_cast<int>(HookKind::ResidPre));
}

int hook_point_count(int64_t n_layer) {
  return kOuterHooksBefore + static_cast<int>(n_layer) * kBlockHookKinds + kOuterHooksAfter;
}

std::string middle_residual_hook(int64_t n_layer) {
  return "blocks." + std::to_string(n_layer / 2) + ".hook_resid_post";
}

bool per_head(HookKind kind) {
  return kind == HookKind::Q || kind == HookKind::K || kind == HookKind::V || kind == HookKind::Z;
}

ParsedHook parse_hook_name(const std::string& name, int64_t n_layer) {
  ParsedHook out;
  for (size_t i = 0; i < std::size(kOuterKinds); ++i)
    if (name == kOuterNames[i]) {
      out.ok = true;
      out.point = {kOuterKinds[i], -1};
      return out;
    }
  const std::string prefix = "blocks.";
  if (name.compare(0, prefix.size(), prefix) != 0) return out;
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return out;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size());
  const bool numeric = !digits.empty() && digits.size() < 6 &&
                       digits.find_first_not_of("0123456789") == std::string::npos &&
                       (digits.size() == 1 || digits[0] != '0');  // one spelling per hook
  if (!numeric) return out;
  const std::string suffix = name.substr(dot + 1);
  for (int i = 0; i < kBlockHookKinds; ++i) {
    if (suffix != kBlockSuffixes[i]) continue;
    const int layer = std::atoi(digits.c_str());
    out.point = {static_cast<HookKind>(static_cast<int>(HookKind::ResidPre) + i), layer};
    out.layer_out_of_range = layer >= n_layer;
    out.ok = !out.layer_out_of_range;
    return out;
  }
  return out;
}

}  // namespace saescope::model
