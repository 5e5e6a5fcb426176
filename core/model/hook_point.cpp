#include "core/model/hook_point.h"

#include <cstdlib>

#include "core/common/error.h"

namespace saescope::model {
namespace {

// Names of the block hooks after "blocks.L.", indexed by kind - ResidPre.
const char* const kBlockSuffixes[kBlockHookKinds] = {
    "hook_resid_pre",     "ln1.hook_normalized", "attn.hook_q",    "attn.hook_k",
    "attn.hook_v",        "attn.hook_pattern",   "attn.hook_z",    "hook_attn_out",
    "hook_resid_mid",     "ln2.hook_normalized", "mlp.hook_pre",   "mlp.hook_post",
    "hook_mlp_out",       "hook_resid_post"};

HookKind block_kind(int i) {
  return static_cast<HookKind>(static_cast<int>(HookKind::ResidPre) + i);
}

std::string valid_names(int64_t n_layer) {
  std::string s = "valid hook points: hook_embed, hook_pos_embed, blocks.L.{";
  for (int i = 0; i < kBlockHookKinds; ++i) s += (i ? ", " : "") + std::string(kBlockSuffixes[i]);
  return s + "} for L in 0.." + std::to_string(n_layer - 1) +
         ", ln_final.hook_normalized, logits";
}

}  // namespace

std::string HookPoint::name() const {
  switch (kind) {
    case HookKind::Embed: return "hook_embed";
    case HookKind::PosEmbed: return "hook_pos_embed";
    case HookKind::LnFinalNormalized: return "ln_final.hook_normalized";
    case HookKind::Logits: return "logits";
    default:
      return "blocks." + std::to_string(layer) + "." +
             kBlockSuffixes[static_cast<int>(kind) - static_cast<int>(HookKind::ResidPre)];
  }
}

int HookPoint::order(int64_t n_layer) const {
  const int k = static_cast<int>(kind);
  if (kind == HookKind::Embed || kind == HookKind::PosEmbed) return k;
  if (!in_block()) return 2 + static_cast<int>(n_layer) * kBlockHookKinds +
                          (k - static_cast<int>(HookKind::LnFinalNormalized));
  return 2 + layer * kBlockHookKinds + (k - static_cast<int>(HookKind::ResidPre));
}

int hook_point_count(int64_t n_layer) { return 4 + static_cast<int>(n_layer) * kBlockHookKinds; }

HookPoint parse_hook_point(const std::string& name, int64_t n_layer) {
  if (name == "hook_embed") return {HookKind::Embed, -1};
  if (name == "hook_pos_embed") return {HookKind::PosEmbed, -1};
  if (name == "ln_final.hook_normalized") return {HookKind::LnFinalNormalized, -1};
  if (name == "logits") return {HookKind::Logits, -1};
  const std::string prefix = "blocks.";
  if (name.compare(0, prefix.size(), prefix) == 0) {
    const size_t dot = name.find('.', prefix.size());
    const std::string digits = name.substr(prefix.size(), dot - prefix.size());
    const bool numeric = !digits.empty() && digits.size() < 6 &&
                         digits.find_first_not_of("0123456789") == std::string::npos &&
                         (digits.size() == 1 || digits[0] != '0');  // one spelling per hook
    if (numeric && dot != std::string::npos) {
      const std::string suffix = name.substr(dot + 1);
      for (int i = 0; i < kBlockHookKinds; ++i) {
        if (suffix != kBlockSuffixes[i]) continue;
        const int layer = std::atoi(digits.c_str());
        if (layer >= n_layer)
          throw InputError("hook point '" + name + "': layer " + digits + " does not exist, the model has " +
                           std::to_string(n_layer) + " blocks (0.." + std::to_string(n_layer - 1) + ")");
        return {block_kind(i), layer};
      }
    }
  }
  throw InputError("unknown hook point '" + name + "'; " + valid_names(n_layer));
}

std::vector<std::string> hook_point_names(int64_t n_layer) {
  std::vector<std::string> names = {"hook_embed", "hook_pos_embed"};
  for (int layer = 0; layer < n_layer; ++layer)
    for (int i = 0; i < kBlockHookKinds; ++i) names.push_back(HookPoint{block_kind(i), layer}.name());
  names.push_back("ln_final.hook_normalized");
  names.push_back("logits");
  return names;
}

}  // namespace saescope::model
