#pragma once
// Hook points: the places in GPT-2's forward pass whose values can be read or
// replaced, named as TransformerLens names them (users type these names).
//
// Values and shapes for a batch of B sequences of T positions:
//   hook_embed, hook_pos_embed                [B, T, d_model]
//   blocks.L.hook_resid_pre                   [B, T, d_model]  (= blocks.L-1.hook_resid_post)
//   blocks.L.ln1.hook_normalized              [B, T, d_model]
//   blocks.L.attn.hook_q / hook_k / hook_v    [B, T, n_head, d_head]
//   blocks.L.attn.hook_pattern                [B, n_head, T_query, T_key]
//   blocks.L.attn.hook_z                      [B, T, n_head, d_head]
//   blocks.L.hook_attn_out, hook_resid_mid    [B, T, d_model]
//   blocks.L.ln2.hook_normalized              [B, T, d_model]
//   blocks.L.mlp.hook_pre / hook_post         [B, T, d_mlp]
//   blocks.L.hook_mlp_out, hook_resid_post    [B, T, d_model]
//   ln_final.hook_normalized                  [B, T, d_model]
//   logits                                    [B, T, vocab]
// `*.hook_normalized` is (x - mean) / sqrt(var + eps): LayerNorm BEFORE its
// gain and bias, which is what TransformerLens's default (fold_ln) model shows.
#include <cstdint>
#include <string>
#include <vector>

namespace saescope::model {

// In forward order. Block kinds run from ResidPre to ResidPost.
enum class HookKind : uint8_t {
  Embed, PosEmbed,
  ResidPre, Ln1Normalized, Q, K, V, Pattern, Z, AttnOut, ResidMid,
  Ln2Normalized, MlpPre, MlpPost, MlpOut, ResidPost,
  LnFinalNormalized, Logits,
};
constexpr int kBlockHookKinds = static_cast<int>(HookKind::ResidPost) -
                                static_cast<int>(HookKind::ResidPre) + 1;

struct HookPoint {
  HookKind kind = HookKind::Embed;
  int layer = -1;  // -1 for the hooks outside the blocks

  std::string name() const;
  bool in_block() const { return layer >= 0; }
  // Position in the forward pass, 0 .. hook_point_count(n_layer) - 1.
  int order(int64_t n_layer) const;
  bool operator==(const HookPoint& o) const { return kind == o.kind && layer == o.layer; }
};

int hook_point_count(int64_t n_layer);

// Parses a TransformerLens hook name; InputError lists the valid names and the
// layer range when `name` is not one of them.
HookPoint parse_hook_point(const std::string& name, int64_t n_layer);

// Every hook name of a model with `n_layer` blocks, in forward order.
std::vector<std::string> hook_point_names(int64_t n_layer);

}  // namespace saescope::model
