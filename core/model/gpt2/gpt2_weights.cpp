#include "core/model/gpt2/gpt2_weights.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/common/error.h"
#include "core/model/checkpoint_reader.h"

namespace saescope::model {
namespace {

at::Tensor centred(const at::Tensor& t) { return t - t.mean(-1, /*keepdim=*/true); }

}  // namespace

Gpt2Weights load_gpt2_weights(const std::string& checkpoint, const Gpt2Config& c,
                              c10::Device device, at::ScalarType dtype) {
  // Fine-tuned saves of GPT2LMHeadModel name everything "transformer.*".
  const CheckpointReader r(checkpoint, {"", "transformer."}, "wte.weight",
                           "config.json: n_layer " + std::to_string(c.n_layer) + ", n_embd " +
                               std::to_string(c.d_model) + ", n_inner " + std::to_string(c.d_mlp) +
                               ", vocab_size " + std::to_string(c.vocab_size) + ", n_positions " +
                               std::to_string(c.n_positions),
                           device, dtype);
  const int64_t d = c.d_model;
  Gpt2Weights w;
  w.token_embed = r.get("wte.weight", {c.vocab_size, d});
  w.pos_embed = r.get("wpe.weight", {c.n_positions, d});
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    const std::string h = "h." + std::to_string(layer) + ".";
    Gpt2BlockWeights b;
    b.ln1_gain = r.get(h + "ln_1.weight", {d});
    b.ln1_bias = r.get(h + "ln_1.bias", {d});
    b.qkv_weight = r.get(h + "attn.c_attn.weight", {d, 3 * d});
    b.qkv_bias = r.get(h + "attn.c_attn.bias", {3 * d});
    b.attn_out_weight = r.get(h + "attn.c_proj.weight", {d, d});
    b.attn_out_bias = r.get(h + "attn.c_proj.bias", {d});
    b.ln2_gain = r.get(h + "ln_2.weight", {d});
    b.ln2_bias = r.get(h + "ln_2.bias", {d});
    b.mlp_in_weight = r.get(h + "mlp.c_fc.weight", {d, c.d_mlp});
    b.mlp_in_bias = r.get(h + "mlp.c_fc.bias", {c.d_mlp});
    b.mlp_out_weight = r.get(h + "mlp.c_proj.weight", {c.d_mlp, d});
    b.mlp_out_bias = r.get(h + "mlp.c_proj.bias", {d});
    w.blocks.push_back(std::move(b));
  }
  w.ln_final_gain = r.get("ln_f.weight", {d});
  w.ln_final_bias = r.get("ln_f.bias", {d});
  w.unembed = w.token_embed;
  return w;
}

void center_writing_weights(Gpt2Weights& w) {
  w.token_embed = centred(w.token_embed);
  w.pos_embed = centred(w.pos_embed);
  for (Gpt2BlockWeights& b : w.blocks) {
    b.attn_out_weight = centred(b.attn_out_weight);  // [in, d_model]: centre each row
    b.attn_out_bias = centred(b.attn_out_bias);
    b.mlp_out_weight = centred(b.mlp_out_weight);
    b.mlp_out_bias = centred(b.mlp_out_bias);
  }
}

void fold_value_biases(Gpt2Weights& w) {
  for (Gpt2BlockWeights& b : w.blocks) {
    const int64_t d = b.attn_out_bias.size(0);
    b.attn_out_bias = b.attn_out_bias + at::matmul(b.qkv_bias.slice(0, 2 * d, 3 * d), b.attn_out_weight);
    at::Tensor qkv = b.qkv_bias.clone();
    qkv.slice(0, 2 * d, 3 * d).zero_();
    b.qkv_bias = qkv;
  }
}

Gpt2Weights random_gpt2_weights(const Gpt2Config& c, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto normal = [&](std::vector<int64_t> shape, double std) {
    return at::randn(shape, gen, at::kFloat) * std;
  };
  const auto zeros = [](int64_t n) { return at::zeros({n}, at::kFloat); };
  const auto ones = [](int64_t n) { return at::ones({n}, at::kFloat); };
  const int64_t d = c.d_model;
  const double proj_std = 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_layer));
  Gpt2Weights w;
  w.token_embed = normal({c.vocab_size, d}, 0.02);
  w.pos_embed = normal({c.n_positions, d}, 0.01);
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    Gpt2BlockWeights b;
    b.ln1_gain = ones(d);
    b.ln1_bias = zeros(d);
    b.qkv_weight = normal({d, 3 * d}, 0.02);
    b.qkv_bias = zeros(3 * d);
    b.attn_out_weight = normal({d, d}, proj_std);
    b.attn_out_bias = zeros(d);
    b.ln2_gain = ones(d);
    b.ln2_bias = zeros(d);
    b.mlp_in_weight = normal({d, c.d_mlp}, 0.02);
    b.mlp_in_bias = zeros(c.d_mlp);
    b.mlp_out_weight = normal({c.d_mlp, d}, proj_std);
    b.mlp_out_bias = zeros(d);
    w.blocks.push_back(std::move(b));
  }
  w.ln_final_gain = ones(d);
  w.ln_final_bias = zeros(d);
  w.unembed = w.token_embed;
  return w;
}

std::vector<std::pair<std::string, at::Tensor>> hf_named_tensors(const Gpt2Weights& w) {
  std::vector<std::pair<std::string, at::Tensor>> out = {{"wte.weight", w.token_embed},
                                                         {"wpe.weight", w.pos_embed}};
  for (size_t layer = 0; layer < w.blocks.size(); ++layer) {
    const Gpt2BlockWeights& b = w.blocks[layer];
    const std::string h = "h." + std::to_string(layer) + ".";
    out.insert(out.end(), {{h + "ln_1.weight", b.ln1_gain},
                           {h + "ln_1.bias", b.ln1_bias},
                           {h + "attn.c_attn.weight", b.qkv_weight},
                           {h + "attn.c_attn.bias", b.qkv_bias},
                           {h + "attn.c_proj.weight", b.attn_out_weight},
                           {h + "attn.c_proj.bias", b.attn_out_bias},
                           {h + "ln_2.weight", b.ln2_gain},
                           {h + "ln_2.bias", b.ln2_bias},
                           {h + "mlp.c_fc.weight", b.mlp_in_weight},
                           {h + "mlp.c_fc.bias", b.mlp_in_bias},
                           {h + "mlp.c_proj.weight", b.mlp_out_weight},
                           {h + "mlp.c_proj.bias", b.mlp_out_bias}});
  }
  out.push_back({"ln_f.weight", w.ln_final_gain});
  out.push_back({"ln_f.bias", w.ln_final_bias});
  return out;
}

}  // namespace saescope::model
