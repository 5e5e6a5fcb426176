#!/usr/bin/python3
"""Writes the GPT-2 correctness fixture in tests/fixtures/model/ (llm.c style).

An independent reference: the published GPT-2 equations in plain numpy,
computed in float64 from float32 weights -- no torch, nothing from SAEScope.
It writes
  tiny-gpt2/config.json          a Hugging Face GPT-2 config (3 layers, d=64)
  tiny-gpt2/model.safetensors    random weights in the HF layout (Conv1D
                                 [in, out]; old-style attn.bias/masked_bias
                                 buffers included, as older files have them)
  expected.safetensors           `input_ids` (no BOS) and the value of every
                                 TransformerLens hook point for BOS + input_ids,
                                 batch dimension dropped ([pos, ...]),
                                 attention patterns [head, q, k].
Hook values follow TransformerLens with fold_ln: `*.hook_normalized` is
(x - mean) / sqrt(var + eps), before LayerNorm's gain and bias.

Run: /usr/bin/python3 tools/make_gpt2_fixture.py  (deterministic: seed 1234)
"""
import json
import os
import struct
import sys

import numpy as np

N_LAYER, D_MODEL, N_HEAD, N_POSITIONS, VOCAB = 3, 64, 4, 64, 512
D_HEAD = D_MODEL // N_HEAD
D_MLP = 4 * D_MODEL
EPS = 1e-5
BOS = VOCAB - 1  # deliberately not 50256: the loader must read bos_token_id
N_TOKENS = 19    # + BOS = 20 positions


def write_safetensors(path, tensors, metadata=None):
    """The format by hand: u64 header length, JSON header, raw little-endian bytes."""
    header, blobs, offset = {}, [], 0
    dtypes = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
    for name, array in tensors:
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[array.dtype], "shape": list(array.shape),
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


def random_weights(rng):
    """Scales chosen so attention is far from uniform and every hook matters."""
    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    w = {"wte.weight": normal((VOCAB, D_MODEL), 0.3),
         "wpe.weight": normal((N_POSITIONS, D_MODEL), 0.3)}
    for layer in range(N_LAYER):
        p = f"h.{layer}."
        w[p + "ln_1.weight"] = (1 + normal((D_MODEL,), 0.2)).astype(np.float32)
        w[p + "ln_1.bias"] = normal((D_MODEL,), 0.1)
        w[p + "attn.c_attn.weight"] = normal((D_MODEL, 3 * D_MODEL), 0.25)
        w[p + "attn.c_attn.bias"] = normal((3 * D_MODEL,), 0.1)
        w[p + "attn.c_proj.weight"] = normal((D_MODEL, D_MODEL), 0.15)
        w[p + "attn.c_proj.bias"] = normal((D_MODEL,), 0.1)
        w[p + "ln_2.weight"] = (1 + normal((D_MODEL,), 0.2)).astype(np.float32)
        w[p + "ln_2.bias"] = normal((D_MODEL,), 0.1)
        w[p + "mlp.c_fc.weight"] = normal((D_MODEL, D_MLP), 0.2)
        w[p + "mlp.c_fc.bias"] = normal((D_MLP,), 0.1)
        w[p + "mlp.c_proj.weight"] = normal((D_MLP, D_MODEL), 0.1)
        w[p + "mlp.c_proj.bias"] = normal((D_MODEL,), 0.1)
    w["ln_f.weight"] = (1 + normal((D_MODEL,), 0.2)).astype(np.float32)
    w["ln_f.bias"] = normal((D_MODEL,), 0.1)
    return w


def normalize(x):
    """LayerNorm without its affine part: biased variance, eps inside the sqrt."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS)


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def reference_forward(w, ids):
    """GPT-2 (Radford et al. 2019) on one sequence; returns {hook name: value}."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    T = len(ids)
    hooks = {}
    hooks["hook_embed"] = w["wte.weight"][ids]
    hooks["hook_pos_embed"] = w["wpe.weight"][np.arange(T)]
    x = hooks["hook_embed"] + hooks["hook_pos_embed"]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for layer in range(N_LAYER):
        p, b = f"h.{layer}.", f"blocks.{layer}."
        hooks[b + "hook_resid_pre"] = x
        n1 = normalize(x)
        hooks[b + "ln1.hook_normalized"] = n1
        a = n1 * w[p + "ln_1.weight"] + w[p + "ln_1.bias"]
        hooks[b + "ln1.hook_out"] = a
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (m.reshape(T, N_HEAD, D_HEAD) for m in np.split(qkv, 3, axis=-1))
        hooks[b + "attn.hook_q"], hooks[b + "attn.hook_k"], hooks[b + "attn.hook_v"] = q, k, v
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(D_HEAD)
        scores = np.where(causal[None], scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        pattern = np.exp(scores)
        pattern /= pattern.sum(axis=-1, keepdims=True)
        hooks[b + "attn.hook_pattern"] = pattern
        z = np.einsum("hqk,khd->qhd", pattern, v)
        hooks[b + "attn.hook_z"] = z
        attn_out = z.reshape(T, D_MODEL) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        hooks[b + "hook_attn_out"] = attn_out
        x = x + attn_out
        hooks[b + "hook_resid_mid"] = x
        hooks[b + "hook_mlp_in"] = x
        n2 = normalize(x)
        hooks[b + "ln2.hook_normalized"] = n2
        a2 = n2 * w[p + "ln_2.weight"] + w[p + "ln_2.bias"]
        hooks[b + "ln2.hook_out"] = a2
        pre = a2 @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        hooks[b + "mlp.hook_pre"] = pre
        post = gelu_new(pre)
        hooks[b + "mlp.hook_post"] = post
        mlp_out = post @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        hooks[b + "hook_mlp_out"] = mlp_out
        x = x + mlp_out
        hooks[b + "hook_resid_post"] = x
    nf = normalize(x)
    hooks["ln_final.hook_normalized"] = nf
    hooks["ln_final.hook_out"] = nf * w["ln_f.weight"] + w["ln_f.bias"]
    hooks["logits"] = hooks["ln_final.hook_out"] @ w["wte.weight"].T
    return hooks


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "model")
    out = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else out)
    model_dir = os.path.join(out, "tiny-gpt2")
    os.makedirs(model_dir, exist_ok=True)
    rng = np.random.default_rng(1234)
    weights = random_weights(rng)
    ids = rng.integers(0, VOCAB - 1, size=N_TOKENS).astype(np.int64)

    config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
              "n_embd": D_MODEL, "n_layer": N_LAYER, "n_head": N_HEAD,
              "n_positions": N_POSITIONS, "vocab_size": VOCAB,
              "layer_norm_epsilon": EPS, "activation_function": "gelu_new",
              "n_inner": None, "bos_token_id": BOS, "eos_token_id": BOS}
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    tensors = list(weights.items())
    causal_buffer = np.tril(np.ones((N_POSITIONS, N_POSITIONS), np.float32))[None, None]
    for layer in range(N_LAYER):  # what older HF saves carry; a loader ignores them
        tensors.append((f"h.{layer}.attn.bias", causal_buffer))
        tensors.append((f"h.{layer}.attn.masked_bias", np.array(-1e4, np.float32)))
    write_safetensors(os.path.join(model_dir, "model.safetensors"), tensors,
                      {"format": "pt"})

    hooks = reference_forward(weights, np.concatenate([[BOS], ids]))
    expected = [("input_ids", ids)] + [(k, v.astype(np.float32)) for k, v in hooks.items()]
    write_safetensors(os.path.join(out, "expected.safetensors"), expected,
                      {"generator": "tools/make_gpt2_fixture.py", "seed": "1234",
                       "bos_prepended": "true"})
    print(f"wrote {model_dir} and expected.safetensors ({len(hooks)} hooks, "
          f"{N_TOKENS + 1} positions)")


if __name__ == "__main__":
    main()
