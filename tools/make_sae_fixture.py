#!/usr/bin/python3
"""Writes tests/fixtures/sae/: small SAEs (d_in 16, d_sae 48) of every
architecture in a legacy (SAELens < 6) and a current (v6) folder layout, plus
inputs and the feature codes and reconstructions they must give.

An independent implementation of SAELens's forward pass (numpy only, float64),
so the C++ engine is checked against something it shares no code with.
Run with /usr/bin/python3 from the repository root:
    /usr/bin/python3 tools/make_sae_fixture.py
"""
import json
import os
import shutil
import struct

import numpy as np

D_IN, D_SAE, N_TOKENS = 16, 48, 24
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sae")
MARGIN = 1e-3  # keep every decision (topk boundary, threshold, gate) this far from a tie


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        raw = arr.tobytes()  # little-endian on every machine we run on
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---- the forward pass, as formats.md states it -------------------------------
def norm_in(x, mode, scale):
    if mode == "none":
        return x, None
    if mode == "expected_average_only_in":
        return x * scale, None
    if mode == "constant_norm_rescale":
        c = np.sqrt(D_IN) / np.linalg.norm(x, axis=-1, keepdims=True)
        return x * c, ("c", c)
    if mode == "layer_norm":
        mu = x.mean(-1, keepdims=True)
        xc = x - mu
        sd = xc.std(-1, ddof=1, keepdims=True)
        return xc / (sd + 1e-5), ("ln", mu, sd)
    raise ValueError(mode)


def norm_out(y, mode, scale, state):
    if mode == "none":
        return y
    if mode == "expected_average_only_in":
        return y / scale
    if mode == "constant_norm_rescale":
        return y / state[1]
    return y * state[2] + state[1]


def forward(w, spec, x):
    """Returns (features, reconstruction, margins) for inputs x [n, d_in]."""
    xn, state = norm_in(x, spec["norm"], spec.get("scale"))
    xc = xn - w["b_dec"] if spec["apply_b_dec"] else xn
    arch = spec["arch"]
    if arch == "gated":
        gate_pre = xc @ w["W_enc"] + w["b_gate"]
        mag = np.maximum(xc @ (w["W_enc"] * np.exp(w["r_mag"])) + w["b_mag"], 0)
        f = (gate_pre > 0) * mag
        margin = np.abs(gate_pre).min(-1)
    else:
        pre = xc @ w["W_enc"] + w["b_enc"]
        dec_norm = np.linalg.norm(w["W_dec"], axis=-1)
        if spec.get("rescale"):
            pre = pre * dec_norm
        if arch == "standard":
            f = np.maximum(pre, 0)
            margin = np.full(len(x), 1.0)
        elif arch == "topk":
            k = spec["k"]
            order = np.argsort(-pre, axis=-1)
            f = np.zeros_like(pre)
            rows = np.arange(len(x))[:, None]
            f[rows, order[:, :k]] = np.maximum(pre[rows, order[:, :k]], 0)
            srt = -np.sort(-pre, axis=-1)
            margin = srt[:, k - 1] - srt[:, k]
        elif arch == "jumprelu":
            f = np.maximum(pre, 0) * (pre > w["threshold"])
            margin = np.abs(pre - w["threshold"]).min(-1)
        else:
            raise ValueError(arch)
    fd = f / np.linalg.norm(w["W_dec"], axis=-1) if spec.get("rescale") else f
    if "legacy_scaling" in w:
        fd = fd * w["legacy_scaling"]
    y = fd @ w["W_dec"] + w["b_dec"]
    return f, norm_out(y, spec["norm"], spec.get("scale"), state), margin


# ---- random SAEs ---------------------------------------------------------------
def make_weights(rng, spec):
    d_dir = rng.normal(size=(D_SAE, D_IN))
    d_dir /= np.linalg.norm(d_dir, axis=-1, keepdims=True)
    W_dec = d_dir * rng.uniform(0.5, 1.5, size=(D_SAE, 1))  # non-unit rows: rescaling matters
    W_enc = (d_dir.T + 0.3 * rng.normal(size=(D_IN, D_SAE))) / np.sqrt(D_IN) * 2.0
    w = {"W_enc": W_enc, "W_dec": W_dec, "b_dec": rng.normal(scale=0.3, size=D_IN)}
    if spec["arch"] == "gated":
        w["b_gate"] = rng.normal(scale=0.3, size=D_SAE) - 0.2
        w["b_mag"] = rng.normal(scale=0.3, size=D_SAE)
        w["r_mag"] = rng.normal(scale=0.2, size=D_SAE)
    else:
        w["b_enc"] = rng.normal(scale=0.3, size=D_SAE) - 0.2
    if spec["arch"] == "jumprelu":
        if spec.get("shared_threshold"):  # BatchTopK saved as JumpReLU
            w["threshold"] = np.full(D_SAE, 0.35)
        else:
            w["threshold"] = rng.uniform(0.1, 0.6, size=D_SAE)
    return w


def make_inputs(rng, w, spec):
    rows = []
    while len(rows) < N_TOKENS:
        x = rng.normal(loc=0.4, scale=1.3, size=(1, D_IN))  # an offset: centring matters
        _, _, margin = forward(w, spec, x)
        if margin[0] > MARGIN:
            rows.append(x[0])
    return np.array(rows)


def metadata_v6(layer):
    return {
        "model_name": "gpt2",
        "hook_name": f"blocks.{layer}.hook_resid_pre",
        "hook_head_index": None,
        "context_size": 128,
        "prepend_bos": True,
        "dataset_path": "Skylion007/openwebtext",
        "model_from_pretrained_kwargs": {"center_writing_weights": layer % 2 == 0},
        "sae_lens_version": "6.5.1",
        "sae_lens_training_version": "6.5.1",
    }


def cfg_v6(spec, layer):
    cfg = {
        "architecture": spec["arch"], "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32",
        "device": "cpu", "apply_b_dec_to_input": spec["apply_b_dec"],
        "normalize_activations": spec["norm"], "reshape_activations": "none",
        "metadata": metadata_v6(layer),
    }
    if spec["arch"] == "topk":
        cfg["k"] = spec["k"]
        cfg["rescale_acts_by_decoder_norm"] = bool(spec.get("rescale"))
    return cfg


def cfg_legacy(spec, layer):
    """SAELens 3.x-5.x flat configs: hook_point, activation_fn_str, boolean norm."""
    cfg = {
        "model_name": "gpt2-small", "hook_point": f"blocks.{layer}.hook_resid_pre",
        "hook_point_layer": layer, "hook_point_head_index": None, "d_in": D_IN, "d_sae": D_SAE,
        "dtype": "torch.float32", "device": "cpu", "context_size": 128,
        "dataset_path": "Skylion007/openwebtext", "prepend_bos": True,
        "activation_fn_str": "relu", "finetuning_scaling_factor": False,
        "sae_lens_training_version": spec.get("version"),
    }
    if spec.get("version"):
        cfg["sae_lens_version"] = spec["version"]
    if not spec["apply_b_dec"]:
        cfg["apply_b_dec_to_input"] = False  # absent means true
    cfg["normalize_activations"] = {"none": False, "expected_average_only_in": True}.get(
        spec["norm"], spec["norm"])
    if spec["arch"] == "topk":  # a TopK SAE was "standard" + activation_fn_str "topk"
        cfg["activation_fn_str"] = "topk"
        cfg["activation_fn_kwargs"] = {"k": spec["k"]}
    elif spec["arch"] != "standard":
        cfg["architecture"] = spec["arch"]
    if spec.get("legacy_cww") is not None:
        cfg["center_writing_weights"] = spec["legacy_cww"]
    if spec.get("legacy_scaling") == "fold":
        cfg["finetuning_scaling_factor"] = True
    return cfg


FIXTURES = [
    # name, spec
    ("standard_v6", dict(arch="standard", layout="v6", norm="none", apply_b_dec=False)),
    ("topk_v6", dict(arch="topk", layout="v6", norm="expected_average_only_in", scale=0.7,
                     k=6, rescale=True, apply_b_dec=True)),
    ("jumprelu_v6", dict(arch="jumprelu", layout="v6", norm="none", apply_b_dec=True)),
    ("batchtopk_v6", dict(arch="jumprelu", layout="v6", norm="layer_norm", apply_b_dec=True,
                          shared_threshold=True)),
    ("gated_v6", dict(arch="gated", layout="v6", norm="constant_norm_rescale", apply_b_dec=True)),
    ("standard_legacy", dict(arch="standard", layout="legacy", norm="none", apply_b_dec=True,
                             legacy_scaling="ones", legacy_cww=False)),
    ("topk_legacy", dict(arch="topk", layout="legacy", norm="expected_average_only_in",
                         scale=1.9, k=5, apply_b_dec=True, version="3.13.1")),
    ("jumprelu_legacy", dict(arch="jumprelu", layout="legacy", norm="constant_norm_rescale",
                             apply_b_dec=False, version="5.3.0")),
    ("gated_legacy", dict(arch="gated", layout="legacy", norm="layer_norm", apply_b_dec=True,
                          legacy_scaling="fold")),
]


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, "expected"))
    rng = np.random.default_rng(20240611)
    index = {}
    for layer, (name, spec) in enumerate(FIXTURES):
        w = make_weights(rng, spec)
        tensors = {k: v for k, v in w.items()}
        if spec.get("legacy_scaling") == "ones":
            tensors["scaling_factor"] = np.ones(D_SAE)
        elif spec.get("legacy_scaling") == "fold":
            w["legacy_scaling"] = rng.uniform(0.5, 1.5, size=D_SAE)
            tensors["scaling_factor"] = w["legacy_scaling"]
        # The stored float32 weights are what the engine sees: compute from them.
        w = {k: np.asarray(v, dtype=np.float32).astype(np.float64) for k, v in w.items()}
        x = make_inputs(rng, w, spec).astype(np.float32).astype(np.float64)
        f, y, _ = forward(w, spec, x)

        folder = os.path.join(OUT, name)
        os.makedirs(folder)
        cfg = cfg_v6(spec, layer) if spec["layout"] == "v6" else cfg_legacy(spec, layer)
        with open(os.path.join(folder, "cfg.json"), "w") as fh:
            json.dump(cfg, fh, indent=2)
        write_safetensors(os.path.join(folder, "sae_weights.safetensors"), tensors)
        if spec["norm"] == "expected_average_only_in":
            with open(os.path.join(folder, "activation_scaler.json"), "w") as fh:
                json.dump({"scaling_factor": spec["scale"]}, fh)
        if spec["layout"] == "v6":
            density = np.clip((f > 0).mean(0), 1e-10, None)
            write_safetensors(os.path.join(folder, "sparsity.safetensors"),
                              {"sparsity": np.log10(density)})
        write_safetensors(os.path.join(OUT, "expected", name + ".safetensors"),
                          {"activations": x, "features": f, "reconstruction": y})
        index[name] = {"architecture": spec["arch"], "layout": spec["layout"],
                       "normalize_activations": spec["norm"], "hook_layer": layer,
                       "k": spec.get("k"), "l0": float((f > 0).sum(-1).mean())}
    with open(os.path.join(OUT, "index.json"), "w") as fh:
        json.dump(index, fh, indent=2)
        fh.write("\n")
    print(json.dumps(index, indent=1))


if __name__ == "__main__":
    main()
