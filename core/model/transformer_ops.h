#pragma once
// The pieces the families' forward passes share, each with its hooks: norms,
// rotary position embedding, causal attention (grouped-query, soft-capped,
// sliding-window) and activations. Written once so that a family's forward
// reads as its architecture, top to bottom.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "core/model/hook_point.h"
#include "core/model/run_request.h"

namespace saescope::model {

class HookPlan;

// x [..., in]·weightᵀ + bias for weight [out, in] (at::linear; bias may be
// undefined), through BLAS's matrix-vector product when x is one row: a
// generation step with the KV cache is bound by reading the weights, and gemv
// reads them about twice as fast as the one-row gemm at::linear runs
// (measured here: 35 against 17-20 GB/s).
at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

enum class Activation { GeluTanh, GeluErf, Relu, Silu };
// Hugging Face's hidden_act / activation_function names; InputError lists the known ones.
Activation parse_activation_name(const std::string& name, const std::string& where);
at::Tensor activate(const at::Tensor& x, Activation kind);

// A norm with its two hooks: the value normalised (before any gain), then
// after gain (and bias). `bias` undefined for RMSNorm. LayerNorm subtracts
// the mean; RMSNorm does not.
struct Norm {
  at::Tensor gain;     // LayerNorm γ; RMSNorm w; Gemma's 1 + w (folded at load)
  at::Tensor bias;     // LayerNorm β, else undefined
  double eps = 1e-5;
  bool subtract_mean = true;
};
at::Tensor apply_norm(const at::Tensor& x, const Norm& norm, HookKind normalized, HookKind out,
                      int layer, HookPlan& hooks);
at::Tensor apply_norm(const at::Tensor& x, const Norm& norm);  // no hooks

// Rotary position embedding on the first `rotary_dims` of each head, Hugging
// Face's rotate_half convention (the dims split in halves, not interleaved).
struct RopeSpec {
  int64_t rotary_dims = 0;
  double theta = 10000.0;
  // "llama3" scaling (factor > 0 with the three below) or "linear" (factor only).
  std::string scaling;  // "", "linear" or "llama3"
  double factor = 1.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_positions = 8192;
};
// cos and sin [T, rotary_dims] for positions first..first+T-1, in `like`'s dtype and device.
struct RopeTable {
  at::Tensor cos, sin;
};
RopeTable rope_table(const RopeSpec& spec, int64_t T, const at::Tensor& like, int64_t first = 0);
// x [B, T, heads, d_head] -> the same with its first rotary_dims rotated.
at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table);

struct AttentionSpec {
  double scale = 1.0;      // multiplies q·k
  double softcap = 0.0;    // > 0: scores = cap·tanh(scores / cap) before the mask (Gemma 2)
};
// Additive mask [T, past + T] for T queries at positions past..past+T-1 over
// keys at 0..past+T-1: 0 where a query may look, -inf elsewhere; `window` > 0:
// a query at i sees keys max(0, i - window + 1) .. i (sliding-window layers).
at::Tensor causal_mask(int64_t T, int64_t window, const at::Tensor& like, int64_t past = 0);
// q [B, T, H, Dh], k and v [B, T, Hkv, Dh] (H a multiple of Hkv; query head h
// reads kv head h / (H / Hkv)). With the plan's cache, k and v join the held
// positions first (S = past + T keys, else S = T). Fires Pattern [B, H, T, S]
// and Z [B, T, H, Dh].
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const AttentionSpec& spec, const at::Tensor& mask, int layer, HookPlan& hooks);

// The end of every forward: the final norm and the unembedding (then
// soft-capping when `softcap` > 0), each only while an asked hook still waits.
void finish_forward(const at::Tensor& x, const Norm& final_norm, const at::Tensor& unembed, double softcap,
                    HookPlan& hooks, RunResult& result);

}  // namespace saescope::model
