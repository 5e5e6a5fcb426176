#!/usr/bin/python3
"""Writes the model-family correctness fixtures in tests/fixtures/model/families/.

An independent reference (llm.c style): each family's forward pass written in
plain numpy, float64, from reading Hugging Face transformers' modeling code
(modeling_gpt_neox.py, modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py,
modeling_gemma2.py, modeling_gemma3.py) -- no torch, nothing from SAEScope.

For every case it writes
  <case>/config.json, <case>/model.safetensors   a tiny random checkpoint in the
                                               exact HF layout (tensor names, shapes,
                                               config keys; some in BF16, one sharded)
  <case>.expected.safetensors                  `input_ids` (as run: BOS included where
                                               the family prepends one) and every hook's
                                               value, batch dropped: [pos, ...],
                                               patterns [head, q, k].
Hook conventions (SAEScope's, following TransformerLens):
  *.hook_normalized is the norm before its gain; *.hook_out after it.
  attn.hook_q/k/v are the projections' outputs (before q/k norms and rotary).
  Gemma: hook_attn_out / hook_mlp_out are after post_attention_layernorm /
  post_feedforward_layernorm; *.hook_result_pre_norm before them.

Run: /usr/bin/python3 tools/make_family_fixtures.py   (deterministic)
"""
import json
import os
import struct
import sys

import numpy as np

T = 12  # positions run: longer than every sliding window below


# ---- files ----------------------------------------------------------------

def bf16_bits(a):
    """float32 -> bfloat16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_round(a):
    return (bf16_bits(a).astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, array in tensors:
        if array.dtype == np.int64:
            data, dt = np.ascontiguousarray(array).astype("<i8").tobytes(), "I64"
        elif dtype == "BF16":
            data, dt = bf16_bits(array).astype("<u2").tobytes(), "BF16"
        else:
            data, dt = np.ascontiguousarray(array, dtype="<f4").tobytes(), "F32"
        header[name] = {"dtype": dt, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_checkpoint(folder, tensors, dtype, shards):
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors, {"format": "pt"}, dtype)
        return
    per = (len(tensors) + shards - 1) // shards
    weight_map = {}
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = tensors[s * per:(s + 1) * per]
        write_safetensors(os.path.join(folder, name), part, {"format": "pt"}, dtype)
        weight_map.update({n: name for n, _ in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)


# ---- shared math ----------------------------------------------------------

def layer_norm(x, eps):
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps)


def rms_norm(x, eps):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps)


def gelu_erf(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def inv_freq(dim, theta, scaling=None):
    f = 1.0 / theta ** (np.arange(0, dim, 2) / dim)
    if scaling is None:
        return f
    if scaling.get("rope_type", scaling.get("type")) == "linear":
        return f / scaling["factor"]
    # "llama3" (transformers' _compute_llama3_parameters)
    factor, lo, hi = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    wavelen = 2 * np.pi / f
    out = np.where(wavelen > old / lo, f / factor, f)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
    return np.where(medium, smoothed, out)


def rope(x, freqs):
    """x [T, H, Dh]: rotate_half on the first 2·len(freqs) dims."""
    r = 2 * len(freqs)
    angles = np.arange(x.shape[0])[:, None] * freqs[None, :]
    emb = np.concatenate([angles, angles], -1)[:, None, :]
    xr, rest = x[..., :r], x[..., r:]
    half = r // 2
    rotated = np.concatenate([-xr[..., half:], xr[..., :half]], -1)
    return np.concatenate([xr * np.cos(emb) + rotated * np.sin(emb), rest], -1)


def attention(q, k, v, scale, softcap=None, window=None):
    """q [T, H, Dh], k/v [T, Hkv, Dh] -> pattern [H, T, T], z [T, H, Dh]."""
    H, Hkv = q.shape[1], k.shape[1]
    k = np.repeat(k, H // Hkv, axis=1)  # query head h reads kv head h // (H / Hkv)
    v = np.repeat(v, H // Hkv, axis=1)
    scores = np.einsum("qhd,khd->hqk", q, k) * scale
    if softcap:
        scores = np.tanh(scores / softcap) * softcap
    i, j = np.arange(T)[:, None], np.arange(T)[None, :]
    allowed = j <= i
    if window:
        allowed &= j > i - window
    scores = np.where(allowed[None], scores, -np.inf)
    scores -= scores.max(-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(-1, keepdims=True)
    return p, np.einsum("hqk,khd->qhd", p, v)


def linear(x, w, name, bias=True):
    y = x @ w[name + ".weight"].T
    return y + w[name + ".bias"] if bias and (name + ".bias") in w else y


# ---- GPT-NeoX (Pythia) ----------------------------------------------------

def neox_weights(rng, c):
    d, f, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    n = lambda *s, std=0.3: (rng.standard_normal(s) * std).astype(np.float32)
    w = {"gpt_neox.embed_in.weight": n(V, d, std=0.5)}
    for l in range(c["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        for ln in ("input_layernorm", "post_attention_layernorm"):
            w[p + ln + ".weight"] = 1 + n(d, std=0.2)
            w[p + ln + ".bias"] = n(d, std=0.1)
        w[p + "attention.query_key_value.weight"] = n(3 * d, d, std=0.35)
        w[p + "attention.query_key_value.bias"] = n(3 * d, std=0.1)
        w[p + "attention.dense.weight"] = n(d, d, std=0.2)
        w[p + "attention.dense.bias"] = n(d, std=0.1)
        w[p + "mlp.dense_h_to_4h.weight"] = n(f, d, std=0.25)
        w[p + "mlp.dense_h_to_4h.bias"] = n(f, std=0.1)
        w[p + "mlp.dense_4h_to_h.weight"] = n(d, f, std=0.15)
        w[p + "mlp.dense_4h_to_h.bias"] = n(d, std=0.1)
    w["gpt_neox.final_layer_norm.weight"] = 1 + n(d, std=0.2)
    w["gpt_neox.final_layer_norm.bias"] = n(d, std=0.1)
    w["embed_out.weight"] = n(V, d, std=0.3)
    return w


def neox_forward(w, c, ids):
    d, H = c["hidden_size"], c["num_attention_heads"]
    Dh, eps = d // H, c["layer_norm_eps"]
    pct = c.get("rotary_pct", c.get("partial_rotary_factor", 1.0))
    theta = c.get("rotary_emb_base", c.get("rope_theta", 10000))
    freqs = inv_freq(int(Dh * pct), theta)
    parallel = c.get("use_parallel_residual", True)
    h = {"hook_embed": w["gpt_neox.embed_in.weight"][ids]}
    x = h["hook_embed"]
    for l in range(c["num_hidden_layers"]):
        p, b = f"gpt_neox.layers.{l}.", f"blocks.{l}."
        h[b + "hook_resid_pre"] = x
        n1 = layer_norm(x, eps)
        h[b + "ln1.hook_normalized"] = n1
        a = n1 * w[p + "input_layernorm.weight"] + w[p + "input_layernorm.bias"]
        h[b + "ln1.hook_out"] = a
        qkv = linear(a, w, p + "attention.query_key_value").reshape(T, H, 3 * Dh)  # per head: q|k|v
        q, k, v = qkv[..., :Dh], qkv[..., Dh:2 * Dh], qkv[..., 2 * Dh:]
        h[b + "attn.hook_q"], h[b + "attn.hook_k"], h[b + "attn.hook_v"] = q, k, v
        pat, z = attention(rope(q, freqs), rope(k, freqs), v, Dh ** -0.5)
        h[b + "attn.hook_pattern"], h[b + "attn.hook_z"] = pat, z
        attn_out = linear(z.reshape(T, d), w, p + "attention.dense")
        h[b + "hook_attn_out"] = attn_out
        if not parallel:
            x = x + attn_out
            h[b + "hook_resid_mid"] = x
        h[b + "hook_mlp_in"] = x
        n2 = layer_norm(x, eps)
        h[b + "ln2.hook_normalized"] = n2
        a2 = n2 * w[p + "post_attention_layernorm.weight"] + w[p + "post_attention_layernorm.bias"]
        h[b + "ln2.hook_out"] = a2
        pre = linear(a2, w, p + "mlp.dense_h_to_4h")
        post = gelu_erf(pre)
        h[b + "mlp.hook_pre"], h[b + "mlp.hook_post"] = pre, post
        mlp_out = linear(post, w, p + "mlp.dense_4h_to_h")
        h[b + "hook_mlp_out"] = mlp_out
        x = x + attn_out + mlp_out if parallel else x + mlp_out
        h[b + "hook_resid_post"] = x
    nf = layer_norm(x, eps)
    h["ln_final.hook_normalized"] = nf
    h["ln_final.hook_out"] = nf * w["gpt_neox.final_layer_norm.weight"] + w["gpt_neox.final_layer_norm.bias"]
    h["logits"] = h["ln_final.hook_out"] @ w["embed_out.weight"].T
    return h


# ---- Llama / Qwen 2 / Qwen 3 ----------------------------------------------

def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def llama_weights(rng, c, prefix="model."):
    d, f, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    H, Hkv, Dh = c["num_attention_heads"], c["num_key_value_heads"], head_dim(c)
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    n = lambda *s, std=0.3: (rng.standard_normal(s) * std).astype(np.float32)
    w = {prefix + "embed_tokens.weight": n(V, d, std=0.5)}
    for l in range(c["num_hidden_layers"]):
        p = f"{prefix}layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + n(d, std=0.2)
        w[p + "post_attention_layernorm.weight"] = 1 + n(d, std=0.2)
        for name, rows in (("q_proj", H * Dh), ("k_proj", Hkv * Dh), ("v_proj", Hkv * Dh)):
            w[p + f"self_attn.{name}.weight"] = n(rows, d, std=0.35)
            if qkv_bias:
                w[p + f"self_attn.{name}.bias"] = n(rows, std=0.2)
        w[p + "self_attn.o_proj.weight"] = n(d, H * Dh, std=0.2)
        if c.get("attention_bias", False):
            w[p + "self_attn.o_proj.bias"] = n(d, std=0.1)
        if c["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = 1 + n(Dh, std=0.2)
            w[p + "self_attn.k_norm.weight"] = 1 + n(Dh, std=0.2)
        w[p + "mlp.gate_proj.weight"] = n(f, d, std=0.3)
        w[p + "mlp.up_proj.weight"] = n(f, d, std=0.3)
        w[p + "mlp.down_proj.weight"] = n(d, f, std=0.2)
    w[prefix + "norm.weight"] = 1 + n(d, std=0.2)
    if not c.get("tie_word_embeddings", False):
        w["lm_head.weight"] = n(V, d, std=0.3)
    return w


def llama_forward(w, c, ids, prefix="model."):
    d, H, Hkv, Dh = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], head_dim(c)
    eps = c["rms_norm_eps"]
    freqs = inv_freq(Dh, c.get("rope_theta", 10000.0), c.get("rope_scaling"))
    qwen3 = c["model_type"] == "qwen3"
    h = {"hook_embed": w[prefix + "embed_tokens.weight"][ids]}
    x = h["hook_embed"]
    for l in range(c["num_hidden_layers"]):
        p, b = f"{prefix}layers.{l}.", f"blocks.{l}."
        h[b + "hook_resid_pre"] = x
        n1 = rms_norm(x, eps)
        h[b + "ln1.hook_normalized"] = n1
        a = n1 * w[p + "input_layernorm.weight"]
        h[b + "ln1.hook_out"] = a
        q = linear(a, w, p + "self_attn.q_proj").reshape(T, H, Dh)
        k = linear(a, w, p + "self_attn.k_proj").reshape(T, Hkv, Dh)
        v = linear(a, w, p + "self_attn.v_proj").reshape(T, Hkv, Dh)
        h[b + "attn.hook_q"], h[b + "attn.hook_k"], h[b + "attn.hook_v"] = q, k, v
        if qwen3:  # RMSNorm over head_dim, per head, before RoPE
            q = rms_norm(q, eps) * w[p + "self_attn.q_norm.weight"]
            k = rms_norm(k, eps) * w[p + "self_attn.k_norm.weight"]
        pat, z = attention(rope(q, freqs), rope(k, freqs), v, Dh ** -0.5)
        h[b + "attn.hook_pattern"], h[b + "attn.hook_z"] = pat, z
        attn_out = linear(z.reshape(T, H * Dh), w, p + "self_attn.o_proj")
        h[b + "hook_attn_out"] = attn_out
        x = x + attn_out
        h[b + "hook_resid_mid"] = x
        h[b + "hook_mlp_in"] = x
        n2 = rms_norm(x, eps)
        h[b + "ln2.hook_normalized"] = n2
        a2 = n2 * w[p + "post_attention_layernorm.weight"]
        h[b + "ln2.hook_out"] = a2
        gate = a2 @ w[p + "mlp.gate_proj.weight"].T
        up = a2 @ w[p + "mlp.up_proj.weight"].T
        post = silu(gate) * up
        h[b + "mlp.hook_pre"], h[b + "mlp.hook_pre_linear"], h[b + "mlp.hook_post"] = gate, up, post
        mlp_out = post @ w[p + "mlp.down_proj.weight"].T
        h[b + "hook_mlp_out"] = mlp_out
        x = x + mlp_out
        h[b + "hook_resid_post"] = x
    nf = rms_norm(x, eps)
    h["ln_final.hook_normalized"] = nf
    h["ln_final.hook_out"] = nf * w[prefix + "norm.weight"]
    unembed = w[prefix + "embed_tokens.weight"] if c.get("tie_word_embeddings", False) else w["lm_head.weight"]
    h["logits"] = h["ln_final.hook_out"] @ unembed.T
    return h


# ---- Gemma 2 / Gemma 3 ----------------------------------------------------

def gemma_weights(rng, c, prefix="model."):
    d, f, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    H, Hkv, Dh = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    n = lambda *s, std=0.3: (rng.standard_normal(s) * std).astype(np.float32)
    w = {prefix + "embed_tokens.weight": n(V, d, std=0.15)}
    for l in range(c["num_hidden_layers"]):
        p = f"{prefix}layers.{l}."
        for ln in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                   "post_feedforward_layernorm"):
            w[p + ln + ".weight"] = n(d, std=0.3)  # Gemma's norm multiplies by 1 + w
        w[p + "self_attn.q_proj.weight"] = n(H * Dh, d, std=0.5)
        w[p + "self_attn.k_proj.weight"] = n(Hkv * Dh, d, std=0.5)
        w[p + "self_attn.v_proj.weight"] = n(Hkv * Dh, d, std=0.3)
        w[p + "self_attn.o_proj.weight"] = n(d, H * Dh, std=0.2)
        if c["model_type"].startswith("gemma3"):
            w[p + "self_attn.q_norm.weight"] = n(Dh, std=0.3)
            w[p + "self_attn.k_norm.weight"] = n(Dh, std=0.3)
        w[p + "mlp.gate_proj.weight"] = n(f, d, std=0.3)
        w[p + "mlp.up_proj.weight"] = n(f, d, std=0.3)
        w[p + "mlp.down_proj.weight"] = n(d, f, std=0.2)
    w[prefix + "norm.weight"] = n(d, std=0.3)
    return w


def gemma_layer_types(c):
    if "layer_types" in c:
        return c["layer_types"]
    if c["model_type"] == "gemma2":  # layer 0 slides, then every other one
        return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(c["num_hidden_layers"])]
    pattern = c.get("sliding_window_pattern", 6)
    return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(c["num_hidden_layers"])]


def gemma_forward(w, c, ids, prefix="model."):
    d, H, Hkv, Dh = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    gemma3 = c["model_type"].startswith("gemma3")
    norm = lambda x, name: rms_norm(x, eps) * (1.0 + w[name + ".weight"])
    types = gemma_layer_types(c)
    scale = c["query_pre_attn_scalar"] ** -0.5
    normalizer = float(np.float32(np.sqrt(d)))  # HF: a tensor in the hidden states' dtype (float32 here)
    h = {"hook_embed": w[prefix + "embed_tokens.weight"][ids] * normalizer}
    x = h["hook_embed"]
    for l in range(c["num_hidden_layers"]):
        p, b = f"{prefix}layers.{l}.", f"blocks.{l}."
        sliding = types[l] == "sliding_attention"
        if gemma3 and sliding:
            freqs = inv_freq(Dh, c["rope_local_base_freq"])
        else:
            freqs = inv_freq(Dh, c["rope_theta"], c.get("rope_scaling") if gemma3 else None)
        h[b + "hook_resid_pre"] = x
        n1 = rms_norm(x, eps)
        h[b + "ln1.hook_normalized"] = n1
        a = n1 * (1.0 + w[p + "input_layernorm.weight"])
        h[b + "ln1.hook_out"] = a
        q = (a @ w[p + "self_attn.q_proj.weight"].T).reshape(T, H, Dh)
        k = (a @ w[p + "self_attn.k_proj.weight"].T).reshape(T, Hkv, Dh)
        v = (a @ w[p + "self_attn.v_proj.weight"].T).reshape(T, Hkv, Dh)
        h[b + "attn.hook_q"], h[b + "attn.hook_k"], h[b + "attn.hook_v"] = q, k, v
        if gemma3:
            q, k = norm(q, p + "self_attn.q_norm"), norm(k, p + "self_attn.k_norm")
        pat, z = attention(rope(q, freqs), rope(k, freqs), v, scale, c.get("attn_logit_softcapping"),
                           c["sliding_window"] if sliding else None)
        h[b + "attn.hook_pattern"], h[b + "attn.hook_z"] = pat, z
        raw = z.reshape(T, H * Dh) @ w[p + "self_attn.o_proj.weight"].T
        h[b + "attn.hook_result_pre_norm"] = raw
        attn_out = norm(raw, p + "post_attention_layernorm")
        h[b + "hook_attn_out"] = attn_out
        x = x + attn_out
        h[b + "hook_resid_mid"] = x
        h[b + "hook_mlp_in"] = x
        n2 = rms_norm(x, eps)
        h[b + "ln2.hook_normalized"] = n2
        a2 = n2 * (1.0 + w[p + "pre_feedforward_layernorm.weight"])
        h[b + "ln2.hook_out"] = a2
        gate = a2 @ w[p + "mlp.gate_proj.weight"].T
        up = a2 @ w[p + "mlp.up_proj.weight"].T
        post = gelu_tanh(gate) * up
        h[b + "mlp.hook_pre"], h[b + "mlp.hook_pre_linear"], h[b + "mlp.hook_post"] = gate, up, post
        raw_mlp = post @ w[p + "mlp.down_proj.weight"].T
        h[b + "mlp.hook_result_pre_norm"] = raw_mlp
        mlp_out = norm(raw_mlp, p + "post_feedforward_layernorm")
        h[b + "hook_mlp_out"] = mlp_out
        x = x + mlp_out
        h[b + "hook_resid_post"] = x
    nf = rms_norm(x, eps)
    h["ln_final.hook_normalized"] = nf
    h["ln_final.hook_out"] = nf * (1.0 + w[prefix + "norm.weight"])
    logits = h["ln_final.hook_out"] @ w[prefix + "embed_tokens.weight"].T  # tied
    cap = c.get("final_logit_softcapping")
    h["logits"] = np.tanh(logits / cap) * cap if cap else logits
    return h


# ---- the cases ------------------------------------------------------------

V = 96
CASES = [
    # name, config, weights fn, forward fn, prefix, dtype, shards, prepend BOS
    ("pythia", {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"],
                "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 64, "vocab_size": V, "max_position_embeddings": 64,
                "rotary_pct": 0.25, "rotary_emb_base": 10000, "layer_norm_eps": 1e-5,
                "hidden_act": "gelu", "use_parallel_residual": True, "tie_word_embeddings": False,
                "bos_token_id": 0, "eos_token_id": 0}, "neox", None, "F32", 1, False),
    ("neox-sequential", {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"],
                         "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                         "intermediate_size": 48, "vocab_size": V, "max_position_embeddings": 32,
                         "partial_rotary_factor": 0.5, "rope_theta": 500.0, "layer_norm_eps": 1e-5,
                         "hidden_act": "gelu", "use_parallel_residual": False,
                         "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0},
     "neox", None, "BF16", 2, False),
    ("llama3", {"model_type": "llama", "architectures": ["LlamaForCausalLM"],
                "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 64,
                "vocab_size": V, "max_position_embeddings": 512, "rms_norm_eps": 1e-5,
                "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
                "attention_bias": False, "mlp_bias": False,
                "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                "bos_token_id": 1, "eos_token_id": [2, 3]}, "llama", "model.", "F32", 1, True),
    ("qwen2", {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"],
               "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "intermediate_size": 64, "vocab_size": V,
               "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
               "hidden_act": "silu", "tie_word_embeddings": False, "use_sliding_window": False,
               "rope_scaling": {"type": "linear", "factor": 2.0},
               "bos_token_id": 5, "eos_token_id": 6}, "llama", "model.", "BF16", 1, False),
    ("qwen3", {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
               "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 48,
               "vocab_size": V, "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
               "rope_theta": 1000000.0, "hidden_act": "silu", "tie_word_embeddings": True,
               "attention_bias": False, "bos_token_id": None, "eos_token_id": 7},
     "llama", "", "F32", 1, False),
    ("gemma2", {"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"],
                "hidden_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4,
                "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 64,
                "vocab_size": V, "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
                "rope_theta": 10000.0, "hidden_activation": "gelu_pytorch_tanh",
                "query_pre_attn_scalar": 24, "sliding_window": 4,
                "attn_logit_softcapping": 2.0, "final_logit_softcapping": 1.5,
                "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": 1,
                "pad_token_id": 0}, "gemma", "model.", "F32", 1, True),
    ("gemma3-text", {"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"],
                     "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2,
                     "num_key_value_heads": 1, "head_dim": 16, "intermediate_size": 48,
                     "vocab_size": V, "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
                     "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
                     "rope_scaling": {"rope_type": "linear", "factor": 8.0},
                     "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 16,
                     "sliding_window": 5, "sliding_window_pattern": 2,
                     "attn_logit_softcapping": None, "final_logit_softcapping": None,
                     "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": [1, 106]},
     "gemma", "model.", "F32", 1, True),
]
# Gemma 3 multimodal: the text part of a Gemma3ForConditionalGeneration
# checkpoint, its tensors under language_model.model., BF16, sharded.
GEMMA3_TEXT = {"model_type": "gemma3_text", "hidden_size": 32, "num_hidden_layers": 2,
               "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16,
               "intermediate_size": 48, "vocab_size": V, "max_position_embeddings": 256,
               "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
               "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 16,
               "sliding_window": 3, "layer_types": ["sliding_attention", "full_attention"],
               "tie_word_embeddings": True}
CASES.append(("gemma3-multimodal", {"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
                                    "text_config": GEMMA3_TEXT,
                                    "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 8},
                                    "bos_token_id": 2, "eos_token_id": [1, 106]},
              "gemma", "language_model.model.", "BF16", 2, True))

WEIGHTS = {"neox": neox_weights, "llama": llama_weights, "gemma": gemma_weights}
FORWARD = {"neox": neox_forward, "llama": llama_forward, "gemma": gemma_forward}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "model", "families")
    out = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else out)
    os.makedirs(out, exist_ok=True)
    for seed, (name, config, kind, prefix, dtype, shards, bos) in enumerate(CASES):
        rng = np.random.default_rng(100 + seed)
        text = config.get("text_config", config)
        args = () if prefix is None else (prefix,)
        w = WEIGHTS[kind](rng, text, *args)
        if dtype == "BF16":  # the reference computes with the values the file holds
            w = {k: bf16_round(v) for k, v in w.items()}
        if kind == "gemma" and name == "gemma3-multimodal":  # the vision tower a loader must skip
            w["vision_tower.vision_model.embeddings.patch_embedding.weight"] = np.zeros((8, 3, 2, 2), np.float32)
            w["multi_modal_projector.mm_input_projection_weight"] = np.zeros((8, 32), np.float32)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        write_checkpoint(folder, sorted(w.items()), dtype, shards)
        ids = rng.integers(3, V, size=T).astype(np.int64)
        if bos:
            ids[0] = config["bos_token_id"]
        hooks = FORWARD[kind]({k: v.astype(np.float64) for k, v in w.items()}, text, ids, *args)
        expected = [("input_ids", ids)] + [(k, v.astype(np.float32)) for k, v in sorted(hooks.items())]
        write_safetensors(os.path.join(out, name + ".expected.safetensors"), expected,
                          {"generator": "tools/make_family_fixtures.py"})
        print(f"{name}: {len(hooks)} hooks, {len(w)} tensors ({dtype}, {shards} file(s))")


if __name__ == "__main__":
    main()
