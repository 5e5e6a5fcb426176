#pragma once
// Hook points: the places in a transformer's forward pass whose values can be
// read or replaced. One set of kinds serves every family; a family's
// HookSchema (hook_schema.h) says which of them it has and how wide they are.
// Names are TransformerLens's (users type these), plus SAEScope's own for the
// few points TransformerLens does not name but Hugging Face module paths do.
//
// Values and shapes for a batch of B sequences of T positions:
//   hook_embed, hook_pos_embed                [B, T, d_model]  (hook_embed: what enters
//                                                                the residual stream)
//   blocks.L.hook_resid_pre                   [B, T, d_model]  (= blocks.L-1.hook_resid_post)
//   blocks.L.ln1.hook_normalized              [B, T, d_model]  norm before its gain
//   blocks.L.ln1.hook_out                     [B, T, d_model]  norm after its gain: attention's input
//   blocks.L.attn.hook_q                      [B, T, n_head, d_head]
//   blocks.L.attn.hook_k / hook_v             [B, T, n_kv_head, d_head]
//   blocks.L.attn.hook_pattern                [B, n_head, T_query, T_key]
//   blocks.L.attn.hook_z                      [B, T, n_head, d_head]
//   blocks.L.attn.hook_result_pre_norm        [B, T, d_model]  Gemma: o_proj's output
//   blocks.L.hook_attn_out                    [B, T, d_model]  what attention adds to the stream
//   blocks.L.hook_resid_mid                   [B, T, d_model]  (not in parallel blocks)
//   blocks.L.hook_mlp_in                      [B, T, d_model]  the residual the MLP's norm reads
//   blocks.L.ln2.hook_normalized / hook_out   [B, T, d_model]
//   blocks.L.mlp.hook_pre                     [B, T, d_mlp]    (gated MLPs: the gate's input to act)
//   blocks.L.mlp.hook_pre_linear              [B, T, d_mlp]    gated MLPs: the up projection
//   blocks.L.mlp.hook_post                    [B, T, d_mlp]    what the down projection reads
//   blocks.L.mlp.hook_result_pre_norm         [B, T, d_model]  Gemma: down_proj's output
//   blocks.L.hook_mlp_out                     [B, T, d_model]  what the MLP adds to the stream
//   blocks.L.hook_resid_post                  [B, T, d_model]
//   ln_final.hook_normalized / hook_out       [B, T, d_model]
//   logits                                    [B, T, vocab]    (after any final soft-capping)
#include <cstdint>
#include <string>
#include <vector>

namespace saescope::model {

// In forward order. Block kinds run from ResidPre to ResidPost.
enum class HookKind : uint8_t {
  Embed, PosEmbed,
  ResidPre, Ln1Normalized, Ln1Out, Q, K, V, Pattern, Z, AttnPreNorm, AttnOut, ResidMid,
  MlpIn, Ln2Normalized, Ln2Out, MlpPre, MlpPreLinear, MlpPost, MlpPreNorm, MlpOut, ResidPost,
  LnFinalNormalized, LnFinalOut, Logits,
};
constexpr int kOuterHooksBefore = 2;  // Embed, PosEmbed
constexpr int kBlockHookKinds = static_cast<int>(HookKind::ResidPost) -
                                static_cast<int>(HookKind::ResidPre) + 1;
constexpr int kOuterHooksAfter = 3;   // LnFinalNormalized, LnFinalOut, Logits

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

// blocks.<n_layer / 2>.hook_resid_post: the residual stream halfway through,
// where an SAE is trained when no hook is picked and the SAE a workspace
// opens on is sought.
std::string middle_residual_hook(int64_t n_layer);

// The kinds whose value holds one vector per head ([B, T, heads, d_head]).
bool per_head(HookKind kind);

// Parses a hook name of the form above (any kind, any family); nullopt-like
// `ok = false` when `name` is not of that form or its layer is out of range.
struct ParsedHook {
  bool ok = false;
  HookPoint point;
  bool layer_out_of_range = false;
};
ParsedHook parse_hook_name(const std::string& name, int64_t n_layer);

}  // namespace saescope::model
