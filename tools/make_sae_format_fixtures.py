#!/usr/bin/python3
"""Tiny fixture SAEs in the exact published layout of each release, with a reference.

Writes tests/fixtures/sae_formats/<case>/ for every case: the release's files under
the release's own relative path, expected.json, and reference.safetensors holding
float32 `activations` [24, d_in], `features` [24, d_sae], `reconstruction` [24, d_out].

The reference is computed in float64 from the values exactly as stored (bfloat16
tensors are upcast from their stored bits), with a numpy re-implementation of each
release's own inference code (see tests/fixtures/sae_formats/README.md for the source
files and functions). Thresholds and biases are tuned so that 20-60% of the features
fire per token, some are exactly zero, top-k has no ties and no JumpReLU / top-k
boundary is closer than MARGIN, so float32 readers cannot flip a decision.

Run with /usr/bin/python3 (numpy + torch; torch is only used for torch.save of the
.pt formats). Output is byte-for-byte deterministic.
"""
import collections
import io
import json
import math
import os
import struct
import sys
import zipfile

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "sae_formats")
N = 24      # tokens
D = 16      # d_in
F = 48      # d_sae
K = 16      # k for top-k cases (1/3 of the features)
MARGIN = 2e-3

# ----------------------------------------------------------------------------
# file writers
# ----------------------------------------------------------------------------


def f32_to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16, returned as uint16 bits."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounding = ((u >> 16) & 1) + 0x7FFF
    return ((u + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f64(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def as_bf16(a):
    """Stored bf16 bits and their exact float64 value."""
    bits = f32_to_bf16_bits(a)
    return bits, bf16_bits_to_f64(bits)


_ST_DTYPES = {"F32": (np.float32, 4), "BF16": (np.uint16, 2), "F64": (np.float64, 8),
              "I64": (np.int64, 8), "I32": (np.int32, 4)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype tag, array). Layout as the safetensors library
    writes it: tensors ordered by (alignment desc, name), header padded with spaces
    to a multiple of 8."""
    items = sorted(tensors, key=lambda t: (-_ST_DTYPES[t[1]][1], t[0]))
    header = collections.OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, tag, arr in items:
        np_dtype, _ = _ST_DTYPES[tag]
        data = np.ascontiguousarray(arr, dtype=np.dtype(np_dtype).newbyteorder("<")).tobytes()
        header[name] = {"dtype": tag, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hbytes)))
        fh.write(hbytes)
        for b in blobs:
            fh.write(b)


def write_npz(path, arrays):
    """np.savez layout (one uncompressed NPY v1.0 member per key, `<key>.npy`, zip64
    extra fields as numpy forces them) but with a fixed member timestamp so the file is
    deterministic (np.savez stamps the current time)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, np.asanyarray(arr), allow_pickle=False)


def torch_save(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path)


def write_json(path, obj, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(obj, fh, **kw)


def t32(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


# ----------------------------------------------------------------------------
# tuning helpers: biases / thresholds with safe margins
# ----------------------------------------------------------------------------


def crossing_bias(u, target, rng, lo=0.3, hi=0.55, gap=4 * MARGIN):
    """Per column j, a bias b_j such that u[:, j] + b_j crosses `target[j]` between two
    sorted values at least `gap` apart, with a fraction in [lo, hi] above it."""
    n, m = u.shape
    b = np.empty(m)
    for j in range(m):
        v = np.sort(u[:, j])
        cands = []
        for i in range(1, n):
            frac = (n - i) / n
            if lo <= frac <= hi and v[i] - v[i - 1] >= gap:
                cands.append(0.5 * (v[i] + v[i - 1]))
        if not cands:
            return None
        b[j] = target[j] - cands[rng.integers(len(cands))]
    return b


def check_margin(gate, thr, margin=MARGIN):
    return float(np.min(np.abs(gate - thr))) >= margin


def topk_ok(values, k, margin=MARGIN, need_positive=True):
    s = -np.sort(-values, axis=1)
    if np.min(s[:, k - 1] - s[:, k]) < margin:
        return False
    if need_positive and np.min(s[:, k - 1]) <= margin:
        return False
    return True


def topk_mask(values, k):
    idx = np.argsort(-values, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(values, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def active_fraction(f):
    return float(np.mean(f != 0))


# ----------------------------------------------------------------------------
# case writer
# ----------------------------------------------------------------------------

CASES = []


def finish(case, expected, x, feats, recon):
    d = os.path.join(OUT, case)
    frac = active_fraction(feats)
    assert 0.2 <= frac <= 0.6, (case, frac)
    assert np.any(feats == 0), case
    assert feats.shape == (N, expected["d_sae"]) and x.shape == (N, expected["d_in"])
    assert recon.shape == (N, expected["d_out"])
    write_safetensors(os.path.join(d, "reference.safetensors"), [
        ("activations", "F32", x.astype(np.float32)),
        ("features", "F32", feats.astype(np.float32)),
        ("reconstruction", "F32", recon.astype(np.float32)),
    ])
    write_json(os.path.join(d, "expected.json"), expected, indent=2)
    with open(os.path.join(d, "expected.json"), "a") as fh:
        fh.write("\n")
    CASES.append((case, expected["sae_path"], frac))


def activations(rng, scale=1.0, d=D, offset=None):
    x = rng.normal(size=(N, d)) * scale
    if offset is not None:
        x = x + offset
    return x.astype(np.float32)


# ----------------------------------------------------------------------------
# Gemma Scope (Gemma 2): params.npz, float32, keys W_enc W_dec b_enc b_dec threshold
# ----------------------------------------------------------------------------


def jumprelu_params(rng, x64, d_in, d_sae, lo=0.3, hi=0.5):
    """W_enc [d_in, d_sae] etc. float32 with per-feature thresholds placed between
    pre-activations (pre = x @ W_enc + b_enc)."""
    for _ in range(200):
        W_enc = (rng.normal(size=(d_in, d_sae)) / math.sqrt(d_in)).astype(np.float32)
        u = x64 @ W_enc.astype(np.float64)
        # bias: make ~65% of each feature's pre-activations positive
        b_enc = (-np.quantile(u, 0.35, axis=0) + rng.normal(size=d_sae) * 0.01).astype(np.float32)
        pre = u + b_enc.astype(np.float64)
        thr = np.empty(d_sae)
        ok = True
        for j in range(d_sae):
            v = np.sort(pre[:, j])
            cands = [0.5 * (v[i] + v[i - 1]) for i in range(1, N)
                     if lo <= (N - i) / N <= hi and v[i] - v[i - 1] >= 4 * MARGIN and v[i - 1] > MARGIN]
            if not cands:
                ok = False
                break
            thr[j] = cands[rng.integers(len(cands))]
        if not ok:
            continue
        threshold = thr.astype(np.float32)
        if not check_margin(pre, threshold.astype(np.float64)[None, :]):
            continue
        if np.min(threshold) <= 0:
            continue
        return W_enc, b_enc, threshold
    raise RuntimeError("could not tune jumprelu params")


def gemma_jumprelu(x, W_enc, b_enc, thr, W_dec, b_dec):
    """google-deepmind Gemma Scope tutorial JumpReLUSAE: pre = x @ W_enc + b_enc;
    acts = (pre > threshold) * relu(pre); recon = acts @ W_dec + b_dec."""
    pre = x @ W_enc + b_enc
    f = (pre > thr) * np.maximum(pre, 0.0)
    return f, f @ W_dec + b_dec


def case_gemma_scope(case, release, folder, hook, seed, d_in=D, notes=""):
    rng = np.random.default_rng(seed)
    x = activations(rng, scale=2.0)
    x64 = x.astype(np.float64)
    W_enc, b_enc, threshold = jumprelu_params(rng, x64, d_in, F)
    W_dec = (rng.normal(size=(F, d_in)) * 0.3).astype(np.float32)
    b_dec = (rng.normal(size=d_in) * 0.1).astype(np.float32)
    rel = f"{release}/{folder}/params.npz"
    # key order as np.savez(**params) writes a dict in the W_enc, W_dec, threshold,
    # b_enc, b_dec order of the tutorial's JumpReLUSAE (order is irrelevant to readers)
    write_npz(os.path.join(OUT, case, rel), [
        ("W_enc", W_enc), ("W_dec", W_dec), ("threshold", threshold), ("b_enc", b_enc), ("b_dec", b_dec)])
    f, r = gemma_jumprelu(x64, W_enc.astype(np.float64), b_enc.astype(np.float64),
                          threshold.astype(np.float64), W_dec.astype(np.float64), b_dec.astype(np.float64))
    finish(case, {
        "sae_path": rel,
        "format": "gemma_scope",
        "architecture": "jumprelu",
        "kind": "sae",
        "d_in": d_in, "d_sae": F, "d_out": d_in,
        "hook_in": hook, "hook_out": hook,
        "notes": ("Gemma Scope (Gemma 2) params.npz: np.savez of float32 arrays with keys "
                  "W_enc [d_in,d_sae], W_dec [d_sae,d_in], b_enc [d_sae], b_dec [d_in], threshold [d_sae] "
                  "(capital W_, as the tutorial's JumpReLUSAE.load_state_dict(params) needs; SAELens also maps "
                  "a w_ prefix, which some Gemma Scope transcoder files use). Math from the Gemma Scope tutorial: "
                  "pre = x@W_enc + b_enc; f = (pre > threshold) * relu(pre); recon = f@W_dec + b_dec; no b_dec "
                  "subtraction from the input. No config file: layer, width (nominal: the folder says width_16k, "
                  "the fixture tensors are 48 wide; d_sae comes from the shapes) and site come from the repo and "
                  "folder names (SAELens get_gemma_2_config_from_hf). Member timestamps fixed for determinism. " + notes),
    }, x, f, r)


# ----------------------------------------------------------------------------
# Gemma Scope 2 (Gemma 3): params.safetensors + config.json
# ----------------------------------------------------------------------------


def case_gemma_scope_2(case, folder, hook_in, hook_out, seed, affine=False, kind="sae", with_config=True,
                       l0=20, notes=""):
    rng = np.random.default_rng(seed)
    x = activations(rng, scale=2.0)
    x64 = x.astype(np.float64)
    w_enc, b_enc, threshold = jumprelu_params(rng, x64, D, F)
    w_dec = (rng.normal(size=(F, D)) * 0.3).astype(np.float32)
    b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
    tensors = [("w_enc", "F32", w_enc), ("w_dec", "F32", w_dec), ("b_enc", "F32", b_enc),
               ("b_dec", "F32", b_dec), ("threshold", "F32", threshold)]
    if affine:
        A = (rng.normal(size=(D, D)) * 0.2).astype(np.float32)
        tensors.append(("affine_skip_connection", "F32", A))
    release = "gemma-scope-2-1b-pt"
    rel_dir = f"{release}/{folder}"
    write_safetensors(os.path.join(OUT, case, rel_dir, "params.safetensors"), tensors)
    if with_config:
        cfg = collections.OrderedDict([
            ("hf_hook_point_in", hook_in),
            ("hf_hook_point_out", hook_out),
            ("width", F),
            ("model_name", "google/gemma-3-1b-pt"),
            ("architecture", "jump_relu"),
            ("l0", l0),
            ("affine_connection", affine),
            ("type", "transcoder" if kind != "sae" else "sae"),
        ])
        write_json(os.path.join(OUT, case, rel_dir, "config.json"), cfg, indent=2)
    f, r = gemma_jumprelu(x64, w_enc.astype(np.float64), b_enc.astype(np.float64), threshold.astype(np.float64),
                          w_dec.astype(np.float64), b_dec.astype(np.float64))
    if affine:
        r = r + x64 @ A.astype(np.float64)
    finish(case, {
        "sae_path": rel_dir,
        "format": "gemma_scope_2",
        "architecture": "jumprelu",
        "kind": kind,
        "d_in": D, "d_sae": F, "d_out": D,
        "hook_in": hook_in, "hook_out": hook_out,
        "notes": ("Gemma Scope 2 folder: params.safetensors (float32; tensors w_enc [d_in,d_sae], w_dec [d_sae,d_in], "
                  "b_enc [d_sae], b_dec [d_in], threshold [d_sae]" + (", affine_skip_connection [d_in,d_out]" if affine else "")
                  + ") and config.json with exactly the real keys hf_hook_point_in, hf_hook_point_out, width, model_name, "
                  "architecture \"jump_relu\", l0 (an int), affine_connection (bool), type (\"sae\"|\"transcoder\"); no d_in "
                  "key: d_in comes from w_enc's shape. Math (Gemma Scope 2 tutorial JumpReLUSAE): pre = x@w_enc + b_enc; "
                  "f = (pre > threshold) * relu(pre); recon = f@w_dec + b_dec"
                  + (" + x@affine_skip_connection (untransposed)" if affine else "") + ". Hooks are Hugging Face module "
                  "paths of Gemma3 (model.layers.L.*); resid_post = model.layers.L.output (TL blocks.L.hook_resid_post), "
                  "mlp_out = model.layers.L.post_feedforward_layernorm.output, attn_out = "
                  "model.layers.L.self_attn.o_proj.input, transcoder in/out = pre_feedforward_layernorm.output / "
                  "post_feedforward_layernorm.output. width in config.json = the fixture's real width (48); the folder "
                  "name keeps the release's width_16k spelling (nominal). l0 value assumed (small=20). " + notes),
    }, x, f, r)


# ----------------------------------------------------------------------------
# Llama Scope (OpenMOSS lm_saes, Oct 2024)
# ----------------------------------------------------------------------------


def case_llama_scope():
    case = "llama_scope"
    rng = np.random.default_rng(700)
    d_model = D
    norm_in = norm_out = 8.8125       # bf16-representable, like the real ones
    tau = 0.29296875                  # L13R-8x's value, bf16-representable
    s_in = math.sqrt(d_model) / norm_in
    s_out = math.sqrt(d_model) / norm_out
    for attempt in range(500):
        # raw activations with average norm ~ norm_in
        x = (rng.normal(size=(N, D)) * (norm_in / math.sqrt(D))).astype(np.float32)
        x64 = x.astype(np.float64)
        xt = x64 * s_in
        W_E_bits, W_E = as_bf16(rng.normal(size=(F, D)) / math.sqrt(D))
        # decoder columns with non-unit norms (0.5 .. 1.5) so the decoder-norm gating matters
        W_D0 = rng.normal(size=(D, F))
        W_D0 = W_D0 / np.linalg.norm(W_D0, axis=0) * rng.uniform(0.5, 1.5, size=F)
        W_D_bits, W_D = as_bf16(W_D0)
        b_D_bits, b_D = as_bf16(rng.normal(size=D) * 0.2)
        # gate_i = n_i * (xt @ W_E_i + b_E_i) / s_in with n_i = ||W_D[:,i]|| * s_in / s_out
        n = np.linalg.norm(W_D * (s_in / s_out), axis=0)
        c = n / s_in
        u = xt @ W_E.T
        b = crossing_bias(u, tau / c, rng, gap=0.08)
        if b is None:
            continue
        b_E_bits, b_E = as_bf16(b)
        gate = c * (u + b_E)
        if not check_margin(gate, tau):
            continue
        f, r = llama_scope_reference(x64, W_E, b_E, W_D, b_D, tau, s_in, s_out)
        if not 0.25 <= active_fraction(f) <= 0.55:
            continue
        break
    else:
        raise RuntimeError("llama scope tuning failed")
    folder = "Llama3_1-8B-Base-L15R-8x"
    hp = collections.OrderedDict([
        ("device", "cuda:0"),
        ("seed", 42),
        ("dtype", "torch.bfloat16"),
        ("hook_point_in", "blocks.15.hook_resid_post"),
        ("hook_point_out", "blocks.15.hook_resid_post"),
        ("use_decoder_bias", True),
        ("apply_decoder_bias_to_pre_encoder", False),
        ("expansion_factor", F // D),
        ("d_model", D),
        ("d_sae", F),
        ("bias_init_method", "all_zero"),
        ("act_fn", "jumprelu"),
        ("jump_relu_threshold", tau),
        ("norm_activation", "dataset-wise"),
        ("dataset_average_activation_norm", collections.OrderedDict([("in", norm_in), ("out", norm_out)])),
        ("decoder_exactly_fixed_norm", False),
        ("sparsity_include_decoder_norm", True),
        ("use_glu_encoder", False),
        ("init_decoder_norm", 0.5),
        ("init_encoder_norm", None),
        ("init_encoder_with_decoder_transpose", True),
        ("lp", 1),
        ("l1_coefficient", 8e-05),
        ("l1_coefficient_warmup_steps", 39062),
        ("top_k", 50),
        ("k_warmup_steps", 39062),
        ("use_batch_norm_mse", True),
        ("use_ghost_grads", False),
        ("tp_size", 1),
        ("ddp_size", 1),
    ])
    write_json(os.path.join(OUT, case, folder, "hyperparams.json"), hp, indent=4)
    write_safetensors(os.path.join(OUT, case, folder, "checkpoints", "final.safetensors"), [
        ("encoder.weight", "BF16", W_E_bits), ("encoder.bias", "BF16", b_E_bits),
        ("decoder.weight", "BF16", W_D_bits), ("decoder.bias", "BF16", b_D_bits)])
    finish(case, {
        "sae_path": folder,
        "format": "llama_scope",
        "architecture": "jumprelu",
        "kind": "sae",
        "d_in": D, "d_sae": F, "d_out": D,
        "hook_in": "blocks.15.hook_resid_post", "hook_out": "blocks.15.hook_resid_post",
        "notes": ("Llama Scope folder Llama3_1-8B-Base-L{layer}{R|A|M|TC}-{8|32}x: hyperparams.json (every key of the "
                  "real L13R-8x file, 4-space indent; expansion_factor/d_model/d_sae scaled to the fixture) and "
                  "checkpoints/final.safetensors (bfloat16: encoder.weight [d_sae,d_model], encoder.bias [d_sae], "
                  "decoder.weight [d_model,d_sae], decoder.bias [d_model]). Reference = the authors' release-time "
                  "loader (lm_saes sae.py @4ec6f0aa, SparseAutoEncoder.from_config): standardize_parameters_of_"
                  "dataset_activation_scaling (s_in = sqrt(d_model)/norm_in, s_out = sqrt(d_model)/norm_out; "
                  "b_E/=s_in, b_D/=s_out, W_D*=s_in/s_out, then raw input), then transform_to_unit_decoder_norm "
                  "(sparsity_include_decoder_norm: n_i = ||W_D[:,i]|| after standardisation; W_D/=n, W_E rows*=n, "
                  "b_E*=n), then jumprelu hidden.where(hidden > jump_relu_threshold, 0) (no extra ReLU). "
                  "Equivalently: pre = (x*s_in)@W_E.T + b_E; gate = n_i*pre/s_in; f = gate*[gate > tau]; "
                  "recon = ((pre*[gate > tau])@W_D.T + b_D)/s_out. "
                  "The threshold is in RAW (un-normalised) units: it was calibrated on that same loader "
                  "(post_processing.post_process_topk_to_jumprelu_for_inference). This equals SAELens's tau*sqrt(d)/norm_in "
                  "on its folded (normalised) pre-activations when decoder columns are unit norm. Features are reported "
                  "as that loader returns them: f_i = n_i*pre_i/s_in (raw units, decoder norm folded in). The fixture's "
                  "decoder columns are deliberately not unit norm (0.5..1.5) so this is exercised. "
                  "Letters: R = resid_post, A = attn_out (blocks.L.hook_attn_out), M = mlp_out (blocks.L.hook_mlp_out), "
                  "TC = transcoder (blocks.L.ln2.hook_normalized -> blocks.L.hook_mlp_out, norm in != out)."),
    }, x, f, r)


def llama_scope_reference(x, W_E, b_E, W_D, b_D, tau, s_in, s_out):
    b_E1 = b_E / s_in
    b_D1 = b_D / s_out
    W_D1 = W_D * (s_in / s_out)
    n = np.linalg.norm(W_D1, axis=0)
    W_D2 = W_D1 / n
    W_E2 = W_E * n[:, None]
    b_E2 = b_E1 * n
    hidden = x @ W_E2.T + b_E2
    f = np.where(hidden > tau, hidden, 0.0)
    return f, f @ W_D2.T + b_D1


# ----------------------------------------------------------------------------
# EleutherAI sparsify
# ----------------------------------------------------------------------------


def sparsify_reference(x, enc_w, enc_b, W_dec, b_dec, k, transcode, W_skip=None):
    """sparsify SparseCoder.encode/decode/forward: x - b_dec unless transcode; pre =
    relu(x @ encoder.weight.T + encoder.bias); top-k; out = top_acts @ W_dec[idx] + b_dec;
    + x @ W_skip.T when skip_connection."""
    xin = x if transcode else x - b_dec
    pre = np.maximum(xin @ enc_w.T + enc_b, 0.0)
    f = np.where(topk_mask(pre, k), pre, 0.0)
    out = f @ W_dec + b_dec
    if W_skip is not None:
        out = out + x @ W_skip.T
    return f, out


def case_sparsify_topk():
    case = "sparsify_topk"
    rng = np.random.default_rng(800)
    for _ in range(500):
        x = activations(rng, scale=1.5)
        x64 = x.astype(np.float64)
        enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
        b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
        u = (x64 - b_dec) @ enc_w.astype(np.float64).T
        enc_b = (-np.quantile(u, 0.3, axis=0)).astype(np.float32)
        pre = u + enc_b
        if not topk_ok(np.maximum(pre, 0), K):
            continue
        W_dec = rng.normal(size=(F, D))
        W_dec = (W_dec / np.linalg.norm(W_dec, axis=1, keepdims=True)).astype(np.float32)  # normalize_decoder
        break
    else:
        raise RuntimeError
    rel = "sae-llama-3-8b-32x/layers.6"
    write_json(os.path.join(OUT, case, rel, "cfg.json"), collections.OrderedDict([
        ("expansion_factor", F // D), ("normalize_decoder", True), ("k", K), ("signed", False), ("d_in", D)]))
    write_safetensors(os.path.join(OUT, case, rel, "sae.safetensors"), [
        ("encoder.weight", "F32", enc_w), ("encoder.bias", "F32", enc_b), ("W_dec", "F32", W_dec), ("b_dec", "F32", b_dec)])
    f, r = sparsify_reference(x64, enc_w.astype(np.float64), enc_b.astype(np.float64), W_dec.astype(np.float64),
                              b_dec.astype(np.float64), K, False)
    finish(case, {
        "sae_path": rel, "format": "sparsify", "architecture": "topk", "kind": "sae",
        "d_in": D, "d_sae": F, "d_out": D, "k": K,
        # Kept as sparsify names it, a Hugging Face module path: the model's
        # family resolves it (layers.6 = blocks.6.hook_resid_post).
        "hook_in": "layers.6", "hook_out": "layers.6",
        "notes": ("EleutherAI sparsify: <repo>/<hookpoint>/cfg.json + sae.safetensors. cfg.json is the real "
                  "sae-llama-3-8b-32x file's key set and compact json.dump style: expansion_factor, normalize_decoder, k, "
                  "signed, d_in (no num_latents/activation/transcode: newer files add activation, num_latents, multi_topk, "
                  "skip_connection, transcode; d_sae = num_latents or d_in*expansion_factor). Tensors (float32 here; "
                  "that repo's layers are float32 4.3 GB files, a few were converted to bf16): encoder.weight [N,d_in], "
                  "encoder.bias [N], W_dec [N,d_in], b_dec [d_in]. Math (sparsify/sparse_coder.py SparseCoder.encode/"
                  "decode, fused_encoder.py): pre = relu((x - b_dec)@encoder.weight.T + encoder.bias); keep top-k; "
                  "recon = acts@W_dec + b_dec. Hookpoint 'layers.6' = output of model.layers[6] = blocks.6.hook_resid_post."),
    }, x, f, r)


def case_sparsify_transcoder():
    case = "sparsify_transcoder_skip"
    rng = np.random.default_rng(900)
    for _ in range(500):
        x = activations(rng, scale=1.5)
        x64 = x.astype(np.float64)
        enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
        u = x64 @ enc_w.astype(np.float64).T
        enc_b = (-np.quantile(u, 0.3, axis=0)).astype(np.float32)
        pre = u + enc_b
        if not topk_ok(np.maximum(pre, 0), K):
            continue
        break
    else:
        raise RuntimeError
    W_dec = (rng.normal(size=(F, D)) * 0.3).astype(np.float32)   # transcoders: not unit-normalised
    b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
    W_skip = (rng.normal(size=(D, D)) * 0.2).astype(np.float32)
    rel = "skip-transcoder-Llama-3.2-1B-131k/layers.4.mlp"
    write_json(os.path.join(OUT, case, rel, "cfg.json"), collections.OrderedDict([
        ("activation", "topk"), ("expansion_factor", F // D), ("normalize_decoder", True), ("num_latents", F),
        ("k", K), ("multi_topk", False), ("skip_connection", True), ("transcode", True), ("d_in", D)]))
    write_safetensors(os.path.join(OUT, case, rel, "sae.safetensors"), [
        ("encoder.weight", "F32", enc_w), ("encoder.bias", "F32", enc_b), ("W_dec", "F32", W_dec),
        ("b_dec", "F32", b_dec), ("W_skip", "F32", W_skip)])
    f, r = sparsify_reference(x64, enc_w.astype(np.float64), enc_b.astype(np.float64), W_dec.astype(np.float64),
                              b_dec.astype(np.float64), K, True, W_skip.astype(np.float64))
    finish(case, {
        "sae_path": rel, "format": "sparsify", "architecture": "topk", "kind": "skip_transcoder",
        "d_in": D, "d_sae": F, "d_out": D, "k": K,
        # The module's input and output as module paths; for Llama they are
        # blocks.4.ln2.hook_normalized and blocks.4.hook_mlp_out.
        "hook_in": "layers.4.mlp.input", "hook_out": "layers.4.mlp",
        "notes": ("sparsify transcoder (transcode true, skip_connection true): cfg.json with the keys current "
                  "sparsify save_to_disk writes ({**SparseCoderConfig.to_dict(), 'd_in'}); num_latents set explicitly. "
                  "No b_dec subtraction when transcode (SparseCoder.encode). W_skip is [d_in,d_in] (sparsify only "
                  "supports d_out == d_in) and is applied as x@W_skip.T (SparseCoder.forward). Hookpoint "
                  "'layers.4.mlp': the trainer's forward hook takes the module's INPUT (for Llama: the "
                  "post_attention_layernorm output, TL blocks.4.ln2.hook_normalized) and predicts its OUTPUT (TL "
                  "blocks.4.hook_mlp_out). W_dec is not unit norm (trainer skips normalize_decoder for transcoders)."),
    }, x, f, r)


# ----------------------------------------------------------------------------
# saprmarks/dictionary_learning
# ----------------------------------------------------------------------------

DL_DIR = "pythia70m_sweep_{}_ctx128_0730/resid_post_layer_3/trainer_0"


def dl_config(trainer_fields):
    return collections.OrderedDict([
        ("trainer", collections.OrderedDict(trainer_fields)),
        ("buffer", collections.OrderedDict([
            ("d_submodule", D), ("io", "out"), ("n_ctxs", 3000), ("ctx_len", 128), ("refresh_batch_size", 32),
            ("out_batch_size", 8192), ("device", "cuda:0")])),
    ])


def dl_common_tail():
    return [("device", "cuda:0"), ("layer", 3), ("lm_name", "EleutherAI/pythia-70m-deduped")]


def dl_finish(case, sweep, dict_class, trainer_class, arch, state_dict, trainer_fields, x, f, r, k=None, notes=""):
    rel_dir = DL_DIR.format(sweep)
    torch_save(os.path.join(OUT, case, rel_dir, "ae.pt"), state_dict)
    write_json(os.path.join(OUT, case, rel_dir, "config.json"), dl_config(trainer_fields), indent=4)
    exp = {
        "sae_path": rel_dir + "/ae.pt", "format": "dictionary_learning", "architecture": arch, "kind": "sae",
        "d_in": D, "d_sae": F, "d_out": D,
        "hook_in": "blocks.3.hook_resid_post", "hook_out": "blocks.3.hook_resid_post",
    }
    if k is not None:
        exp["k"] = k
    exp["notes"] = ("dictionary_learning <dir>/trainer_0/ae.pt (torch.save of a plain dict {name: tensor} = "
                    "ae.state_dict() moved to cpu, as training.py saves the final SAE) + config.json "
                    "(json.dump(indent=4) of {'trainer': trainer.config, 'buffer': buffer.config}). dict_class "
                    + dict_class + ", trainer_class " + trainer_class + ". submodule_name 'resid_post_layer_3' with "
                    "buffer io 'out' = output of layer 3 = blocks.3.hook_resid_post. " + notes)
    finish(case, exp, x, f, r)


def case_dl_standard():
    case = "dictionary_learning_standard"
    rng = np.random.default_rng(1000)
    x = activations(rng, scale=1.0)
    x64 = x.astype(np.float64)
    bias = (rng.normal(size=D) * 0.1).astype(np.float32)
    enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
    u = (x64 - bias) @ enc_w.astype(np.float64).T
    enc_b = (-np.quantile(u, 0.6, axis=0)).astype(np.float32)
    dec_w = rng.normal(size=(D, F))
    dec_w = (dec_w / np.linalg.norm(dec_w, axis=0) * rng.uniform(0.4, 1.6, size=F)).astype(np.float32)
    # AutoEncoder.from_pretrained(path) (normalize_decoder=True by default) then encode/decode:
    norms = np.linalg.norm(dec_w.astype(np.float64), axis=0)
    W_d = dec_w.astype(np.float64) / norms
    W_e = enc_w.astype(np.float64) * norms[:, None]
    b_e = enc_b.astype(np.float64) * norms
    f = np.maximum((x64 - bias) @ W_e.T + b_e, 0.0)
    r = f @ W_d.T + bias
    sd = {"bias": t32(bias), "encoder.weight": t32(enc_w), "encoder.bias": t32(enc_b), "decoder.weight": t32(dec_w)}
    fields = [("dict_class", "AutoEncoder"), ("trainer_class", "StandardTrainerAprilUpdate"),
              ("activation_dim", D), ("dict_size", F), ("lr", 0.0003), ("l1_penalty", 0.04), ("warmup_steps", 1000),
              ("sparsity_warmup_steps", 5000), ("steps", 244140), ("decay_start", 195312), ("seed", 0)] \
        + dl_common_tail() + [("wandb_name", "StandardTrainerAprilUpdate-pythia70m-resid_post_layer_3_trainer_0"),
                              ("submodule_name", "resid_post_layer_3")]
    dl_finish(case, "standard_new", "AutoEncoder", "StandardTrainerAprilUpdate", "standard", sd, fields, x, f, r,
              notes=("AutoEncoder: bias [d] (the shared pre/post bias), encoder = nn.Linear(d, d_sae) -> "
                     "encoder.weight [d_sae,d] + encoder.bias, decoder = nn.Linear(d_sae, d, bias=False) -> "
                     "decoder.weight [d,d_sae]. encode = relu(encoder(x - bias)), decode = decoder(f) + bias. "
                     "AutoEncoder.from_pretrained normalises the decoder by default (normalize_decoder=True): "
                     "decoder columns /= norm, encoder rows and encoder.bias *= norm. The April-update trainer leaves "
                     "decoder norms free, so the fixture's are 0.4..1.6 and the reference features are the "
                     "post-normalisation ones (f_i * ||decoder.weight[:,i]||); reconstruction is unchanged by it."))


def case_dl_topk(batch=False):
    case = "dictionary_learning_batchtopk" if batch else "dictionary_learning_topk"
    rng = np.random.default_rng(1200 if batch else 1100)
    for _ in range(500):
        x = activations(rng, scale=1.0)
        x64 = x.astype(np.float64)
        b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
        enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
        u = (x64 - b_dec) @ enc_w.astype(np.float64).T
        if batch:
            thr = 0.25
            b = crossing_bias(u, np.full(F, thr), rng)
            if b is None:
                continue
            enc_b = b.astype(np.float32)
            post = np.maximum(u + enc_b, 0.0)
            if not check_margin(post, np.float64(np.float32(thr))):
                continue
        else:
            enc_b = (-np.quantile(u, 0.4, axis=0)).astype(np.float32)
            post = np.maximum(u + enc_b, 0.0)
            if not topk_ok(post, K):
                continue
        break
    else:
        raise RuntimeError
    dec_w = rng.normal(size=(D, F))
    dec_w = (dec_w / np.linalg.norm(dec_w, axis=0)).astype(np.float32)
    if batch:
        threshold = np.float32(0.25)
        f = post * (post > np.float64(threshold))      # BatchTopKSAE.encode(use_threshold=True) default
    else:
        threshold = np.float32(0.1873)                 # running threshold; unused by encode() default
        f = np.where(topk_mask(post, K), post, 0.0)    # AutoEncoderTopK.encode default: per-token top-k
    r = f @ dec_w.astype(np.float64).T + b_dec.astype(np.float64)
    # state_dict order: own parameters, own buffers, then children (decoder, encoder)
    sd = {"b_dec": t32(b_dec), "k": torch.tensor(K, dtype=torch.int), "threshold": torch.tensor(float(threshold)),
          "decoder.weight": t32(dec_w), "encoder.weight": t32(enc_w), "encoder.bias": t32(enc_b)}
    tc = "BatchTopKTrainer" if batch else "TopKTrainer"
    dc = "BatchTopKSAE" if batch else "AutoEncoderTopK"
    fields = [("trainer_class", tc), ("dict_class", dc), ("lr", 0.0005), ("steps", 244140), ("auxk_alpha", 0.03125),
              ("warmup_steps", 1000), ("decay_start", 195312), ("threshold_beta", 0.999),
              ("threshold_start_step", 1000)] + ([("top_k_aux", 256)] if batch else []) + \
        [("seed", 0), ("activation_dim", D), ("dict_size", F), ("k", K)] + dl_common_tail() + \
        [("wandb_name", f"{tc}-pythia70m-resid_post_layer_3_trainer_0"), ("submodule_name", "resid_post_layer_3")]
    note = ("BatchTopKSAE: state b_dec, k (int32 0-d buffer), threshold (float32 0-d buffer), decoder.weight [d,d_sae], "
            "encoder.weight [d_sae,d], encoder.bias. Inference = encode(use_threshold=True) default: "
            "post = relu(encoder(x - b_dec)); f = post * (post > threshold); decode = decoder(f) + b_dec. The "
            "batch-level top-k (k*batch over the flattened batch) is training-only." if batch else
            "AutoEncoderTopK: state b_dec, k (int32 0-d buffer), threshold (float32 0-d buffer, unused unless "
            "encode(use_threshold=True)), decoder.weight [d,d_sae], encoder.weight [d_sae,d], encoder.bias. "
            "encode default: post = relu(encoder(x - b_dec)); keep the per-token top-k of post; decode = decoder(f) + b_dec.")
    dl_finish(case, "batch_top_k" if batch else "top_k", dc, tc, "batchtopk" if batch else "topk", sd, fields, x, f, r,
              k=K, notes=note)


def case_dl_matryoshka():
    case = "dictionary_learning_matryoshka"
    rng = np.random.default_rng(1300)
    thr = 0.3
    for _ in range(500):
        x = activations(rng, scale=1.0)
        x64 = x.astype(np.float64)
        b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
        W_enc = (rng.normal(size=(D, F)) / math.sqrt(D)).astype(np.float32)
        u = (x64 - b_dec) @ W_enc.astype(np.float64)
        b = crossing_bias(u, np.full(F, thr), rng)
        if b is None:
            continue
        b_enc = b.astype(np.float32)
        post = np.maximum(u + b_enc, 0.0)
        if check_margin(post, np.float64(np.float32(thr))):
            break
    else:
        raise RuntimeError
    W_dec = rng.normal(size=(F, D))
    W_dec = (W_dec / np.linalg.norm(W_dec, axis=1, keepdims=True)).astype(np.float32)
    group_sizes = [6, 12, 30]
    f = post * (post > np.float64(np.float32(thr)))
    r = f @ W_dec.astype(np.float64) + b_dec.astype(np.float64)
    sd = {"W_enc": t32(W_enc), "b_enc": t32(b_enc), "W_dec": t32(W_dec), "b_dec": t32(b_dec),
          "k": torch.tensor(K, dtype=torch.int), "threshold": torch.tensor(thr, dtype=torch.float32),
          "group_sizes": torch.tensor(group_sizes)}
    fields = [("trainer_class", "MatryoshkaBatchTopKTrainer"), ("dict_class", "MatryoshkaBatchTopKSAE"),
              ("lr", 0.0005), ("steps", 244140), ("auxk_alpha", 0.03125), ("warmup_steps", 1000),
              ("decay_start", 195312), ("threshold_beta", 0.999), ("threshold_start_step", 1000), ("top_k_aux", 256),
              ("seed", 0), ("activation_dim", D), ("dict_size", F), ("group_fractions", [0.125, 0.25, 0.625]),
              ("group_weights", [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]),
              ("group_sizes", group_sizes), ("k", K)] + dl_common_tail() + \
        [("wandb_name", "MatryoshkaBatchTopKTrainer-pythia70m-resid_post_layer_3_trainer_0"),
         ("submodule_name", "resid_post_layer_3")]
    dl_finish(case, "matryoshka_batch_top_k", "MatryoshkaBatchTopKSAE", "MatryoshkaBatchTopKTrainer",
              "matryoshka_batchtopk", sd, fields, x, f, r, k=K,
              notes=("MatryoshkaBatchTopKSAE: raw nn.Parameters W_enc [d,d_sae], b_enc [d_sae], W_dec [d_sae,d], "
                     "b_dec [d], buffers k (int32 0-d), threshold (float32 0-d), group_sizes (int64 [n_groups], sums "
                     "to d_sae). Inference = encode(use_threshold=True): post = relu((x - b_dec)@W_enc + b_enc); "
                     "f = post*(post > threshold); features past group_indices[active_groups] zeroed (all groups "
                     "active after from_pretrained, so none); decode = f@W_dec + b_dec. Same math as BatchTopK."))


def case_dl_jumprelu():
    case = "dictionary_learning_jumprelu"
    rng = np.random.default_rng(1400)
    x = activations(rng, scale=1.5)
    x64 = x.astype(np.float64)
    W_enc, b_enc, threshold = jumprelu_params(rng, x64, D, F)
    W_dec = (rng.normal(size=(F, D)) * 0.3).astype(np.float32)
    b_dec = (rng.normal(size=D) * 0.1).astype(np.float32)
    pre = x64 @ W_enc.astype(np.float64) + b_enc.astype(np.float64)
    f = np.maximum(pre * (pre > threshold.astype(np.float64)), 0.0)
    r = f @ W_dec.astype(np.float64) + b_dec.astype(np.float64)
    sd = {"W_enc": t32(W_enc), "b_enc": t32(b_enc), "W_dec": t32(W_dec), "b_dec": t32(b_dec),
          "threshold": t32(threshold)}
    fields = [("trainer_class", "JumpReluTrainer"), ("dict_class", "JumpReluAutoEncoder"), ("lr", 7e-05),
              ("steps", 244140), ("seed", 0), ("activation_dim", D), ("dict_size", F)] + dl_common_tail() + \
        [("wandb_name", "JumpReluTrainer-pythia70m-resid_post_layer_3_trainer_0"),
         ("submodule_name", "resid_post_layer_3"), ("bandwidth", 0.001), ("sparsity_penalty", 1.0),
         ("sparsity_warmup_steps", 5000), ("target_l0", 20)]
    dl_finish(case, "jump_relu", "JumpReluAutoEncoder", "JumpReluTrainer", "jumprelu", sd, fields, x, f, r,
              notes=("JumpReluAutoEncoder: W_enc [d,d_sae], b_enc, W_dec [d_sae,d], b_dec, threshold [d_sae] (all "
                     "nn.Parameter). apply_b_dec_to_input is a plain attribute, False, not saved. encode: pre = "
                     "x@W_enc + b_enc; f = relu(pre*(pre > threshold)); decode = f@W_dec + b_dec."))


def case_dl_gated():
    case = "dictionary_learning_gated"
    rng = np.random.default_rng(1500)
    for _ in range(500):
        x = activations(rng, scale=1.0)
        x64 = x.astype(np.float64)
        dec_bias = (rng.normal(size=D) * 0.1).astype(np.float32)
        enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
        x_enc = (x64 - dec_bias) @ enc_w.astype(np.float64).T
        gb = crossing_bias(x_enc, np.zeros(F), rng)
        if gb is None:
            continue
        gate_bias = gb.astype(np.float32)
        if check_margin(x_enc + gate_bias, 0.0):
            break
    else:
        raise RuntimeError
    r_mag = (rng.normal(size=F) * 0.2).astype(np.float32)
    mag_bias = (rng.normal(size=F) * 0.1 + 0.05).astype(np.float32)
    dec_w = rng.normal(size=(D, F))
    dec_w = (dec_w / np.linalg.norm(dec_w, axis=0)).astype(np.float32)
    pi_gate = x_enc + gate_bias.astype(np.float64)
    pi_mag = np.exp(r_mag.astype(np.float64)) * x_enc + mag_bias.astype(np.float64)
    f = (pi_gate > 0) * np.maximum(pi_mag, 0.0)
    r = f @ dec_w.astype(np.float64).T + dec_bias.astype(np.float64)
    sd = {"decoder_bias": t32(dec_bias), "r_mag": t32(r_mag), "gate_bias": t32(gate_bias),
          "mag_bias": t32(mag_bias), "encoder.weight": t32(enc_w), "decoder.weight": t32(dec_w)}
    fields = [("dict_class", "GatedAutoEncoder"), ("trainer_class", "GatedSAETrainer"), ("activation_dim", D),
              ("dict_size", F), ("lr", 5e-05), ("l1_penalty", 0.1), ("warmup_steps", 1000),
              ("sparsity_warmup_steps", 5000), ("decay_start", 195312), ("seed", 0)] + dl_common_tail() + \
        [("wandb_name", "GatedSAETrainer-pythia70m-resid_post_layer_3_trainer_0"),
         ("submodule_name", "resid_post_layer_3")]
    dl_finish(case, "gated", "GatedAutoEncoder", "GatedSAETrainer", "gated", sd, fields, x, f, r,
              notes=("GatedAutoEncoder: decoder_bias [d], r_mag, gate_bias, mag_bias [d_sae], encoder.weight "
                     "[d_sae,d] (nn.Linear, no bias), decoder.weight [d,d_sae]. encode (normalize_decoder=False "
                     "default): x_enc = encoder(x - decoder_bias); f = [x_enc + gate_bias > 0] * relu(exp(r_mag)*x_enc "
                     "+ mag_bias); decode = decoder(f) + decoder_bias."))


# ----------------------------------------------------------------------------
# openai/sparse_autoencoder (GPT-2 small)
# ----------------------------------------------------------------------------


def openai_ln(x, eps=1e-5):
    """sparse_autoencoder/model.py LN: mu = mean; std = torch.std (unbiased, n-1) of
    x - mu; x = (x - mu) / (std + eps)."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    std = xc.std(axis=-1, ddof=1, keepdims=True)
    return xc / (std + eps), mu, std


def openai_state_dict(pre_bias, latent_bias, enc_w, dec_w, activation, act_sd, rng):
    sd = collections.OrderedDict()
    sd["pre_bias"] = t32(pre_bias)
    sd["latent_bias"] = t32(latent_bias)
    sd["stats_last_nonzero"] = torch.from_numpy(rng.integers(0, 5000, size=F).astype(np.int64))
    sd["latents_activation_frequency"] = t32(rng.uniform(1e-4, 0.1, size=F))
    sd["latents_mean_square"] = t32(rng.uniform(0.01, 2.0, size=F))
    sd["encoder.weight"] = t32(enc_w)
    sd["decoder.weight"] = t32(dec_w)
    sd["activation"] = activation
    sd["activation_state_dict"] = act_sd
    return sd


def case_openai_topk():
    case = "openai_topk_v5"
    rng = np.random.default_rng(1600)
    for _ in range(500):
        x = (rng.normal(size=(N, D)) * 3.0 + rng.normal(size=(N, 1)) * 2.0).astype(np.float32)
        x64 = x.astype(np.float64)
        xn, mu, std = openai_ln(x64)
        pre_bias = (rng.normal(size=D) * 0.1).astype(np.float32)
        enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
        u = (xn - pre_bias) @ enc_w.astype(np.float64).T
        latent_bias = (-np.quantile(u, 0.4, axis=0)).astype(np.float32)
        pre = u + latent_bias
        if topk_ok(pre, K):
            break
    else:
        raise RuntimeError
    dec_w = rng.normal(size=(D, F))
    dec_w = (dec_w / np.linalg.norm(dec_w, axis=0)).astype(np.float32)
    # TopK.forward: top-k of the pre-activations, then postact_fn (ReLU) on those values
    f = np.where(topk_mask(pre, K), np.maximum(pre, 0.0), 0.0)
    r = (f @ dec_w.astype(np.float64).T + pre_bias.astype(np.float64)) * std + mu
    act_sd = collections.OrderedDict([("k", K), ("postact_fn", "ReLU")])
    sd = openai_state_dict(pre_bias, latent_bias, enc_w, dec_w, "TopK", act_sd, rng)
    rel = "sparse-autoencoder/gpt2-small/resid_post_mlp_v5_32k/autoencoders/6.pt"
    torch_save(os.path.join(OUT, case, rel), sd)
    finish(case, {
        "sae_path": rel, "format": "openai", "architecture": "topk", "kind": "sae",
        "d_in": D, "d_sae": F, "d_out": D, "k": K,
        "hook_in": "blocks.6.hook_resid_post", "hook_out": "blocks.6.hook_resid_post",
        "notes": ("OpenAI sparse_autoencoder v5 (az://openaipublic/sparse-autoencoder/gpt2-small/{location}_v5_32k/"
                  "autoencoders/{layer}.pt, paths.py v5_32k; v5_128k likewise). torch.save of Autoencoder.state_dict() "
                  "(model.py @4965b94): pre_bias [d], latent_bias [n], buffers stats_last_nonzero (int64 [n]), "
                  "latents_activation_frequency, latents_mean_square (float32 [n]), encoder.weight [n,d], "
                  "decoder.weight [d,n], then 'activation': 'TopK' (a str) and 'activation_state_dict': "
                  "OrderedDict {'k': 16 (python int), 'postact_fn': 'ReLU' (str)}. normalize is implied by activation "
                  "== 'TopK' (from_state_dict). Math: LN: mu = mean(x), std = unbiased std (n-1) of x - mu, "
                  "xn = (x - mu)/(std + 1e-5); pre = (xn - pre_bias)@encoder.weight.T + latent_bias; TopK: top-k of "
                  "pre, then ReLU on the kept values; recon = (f@decoder.weight.T + pre_bias)*std + mu. Location -> "
                  "TL hook (README): resid_delta_attn blocks.L.hook_attn_out, resid_post_attn blocks.L.hook_resid_mid, "
                  "resid_delta_mlp blocks.L.hook_mlp_out, resid_post_mlp blocks.L.hook_resid_post, mlp_post_act "
                  "blocks.L.mlp.hook_post (d = 4*d_model). Assumed: the released files carry the two stats buffers "
                  "(the repo's from_state_dict loads strict=True, which needs them); readers should ignore the stats."),
    }, x, f, r)


def case_openai_relu():
    case = "openai_relu_v4"
    rng = np.random.default_rng(1700)
    x = activations(rng, scale=1.0)
    x64 = x.astype(np.float64)
    pre_bias = (rng.normal(size=D) * 0.1).astype(np.float32)
    enc_w = (rng.normal(size=(F, D)) / math.sqrt(D)).astype(np.float32)
    u = (x64 - pre_bias) @ enc_w.astype(np.float64).T
    latent_bias = (-np.quantile(u, 0.6, axis=0)).astype(np.float32)
    dec_w = rng.normal(size=(D, F))
    dec_w = (dec_w / np.linalg.norm(dec_w, axis=0)).astype(np.float32)
    f = np.maximum(u + latent_bias, 0.0)
    r = f @ dec_w.astype(np.float64).T + pre_bias.astype(np.float64)
    sd = openai_state_dict(pre_bias, latent_bias, enc_w, dec_w, "ReLU", collections.OrderedDict(), rng)
    rel = "sparse-autoencoder/gpt2-small/resid_delta_mlp_v4/autoencoders/5.pt"
    torch_save(os.path.join(OUT, case, rel), sd)
    finish(case, {
        "sae_path": rel, "format": "openai", "architecture": "standard", "kind": "sae",
        "d_in": D, "d_sae": F, "d_out": D,
        "hook_in": "blocks.5.hook_mlp_out", "hook_out": "blocks.5.hook_mlp_out",
        "notes": ("OpenAI sparse_autoencoder v4 ReLU (paths.py v4: gpt2-small/{mlp_post_act|resid_delta_mlp}_v4/"
                  "autoencoders/{layer}.pt; v1 is the same without the _v4 suffix). Written as the current "
                  "Autoencoder.state_dict() writes it: 'activation': 'ReLU', 'activation_state_dict': {} (nn.ReLU's "
                  "empty state dict). No input normalisation (normalize only for 'TopK'). f = relu((x - pre_bias)@"
                  "encoder.weight.T + latent_bias); recon = f@decoder.weight.T + pre_bias. Caveat: v1/v4 date from the "
                  "first commit, whose state_dict had only pre_bias, latent_bias, stats_last_nonzero, encoder.weight, "
                  "decoder.weight, so real files may lack the activation keys (default 'ReLU') and the two newer "
                  "stats buffers; a reader must accept both."),
    }, x, f, r)


# ----------------------------------------------------------------------------


def main():
    torch.manual_seed(0)
    case_gemma_scope("gemma_scope_res", "gemma-scope-2b-pt-res", "layer_3/width_16k/average_l0_20",
                     "blocks.3.hook_resid_post", 100)
    case_gemma_scope("gemma_scope_mlp", "gemma-scope-2b-pt-mlp", "layer_5/width_16k/average_l0_30",
                     "blocks.5.hook_mlp_out", 200)
    case_gemma_scope("gemma_scope_att", "gemma-scope-2b-pt-att", "layer_2/width_16k/average_l0_40",
                     "blocks.2.attn.hook_z", 300,
                     notes=("Attention SAEs read hook_z flattened over heads: d_in = n_heads*d_head (4*4 here; 2048 = "
                            "8*256 for 2b), flattened head-major (z[..., h, :] at h*d_head)."))
    case_gemma_scope_2("gemma_scope_2_res", "resid_post_all/layer_5_width_16k_l0_small",
                       "model.layers.5.output", "model.layers.5.output", 400)
    case_gemma_scope_2("gemma_scope_2_transcoder_affine", "transcoder_all/layer_9_width_16k_l0_small_affine",
                       "model.layers.9.pre_feedforward_layernorm.output",
                       "model.layers.9.post_feedforward_layernorm.output", 500, affine=True,
                       kind="skip_transcoder",
                       notes=("Affine (skip) transcoder: folder suffix _affine, config affine_connection true, type "
                              "\"transcoder\"; affine_skip_connection is [d_in,d_in] in the tutorial (Gemma's MLP in "
                              "and out are both d_model). TL equivalents: blocks.9.ln2.hook_normalized -> "
                              "blocks.9.hook_mlp_out."))
    case_gemma_scope_2("gemma_scope_2_noconfig", "resid_post_all/layer_5_width_16k_l0_small",
                       "model.layers.5.output", "model.layers.5.output", 600, with_config=False,
                       notes=("config.json deliberately absent (SAELens then infers it from the path, "
                              "_infer_gemma_3_raw_cfg_dict): inferred layer 5 from layer_5, site from the parent folder "
                              "(resid_post / resid_post_all -> model.layers.5.output; attn_out* -> "
                              "model.layers.L.self_attn.o_proj.input; mlp_out* -> "
                              "model.layers.L.post_feedforward_layernorm.output; transcoder* / clt -> "
                              "pre_feedforward_layernorm.output -> post_feedforward_layernorm.output), width_16k "
                              "nominal (real d_sae 48 from w_enc's shape), l0 'small' (no number), affine only if the "
                              "folder ends in _affine, architecture jump_relu, type sae."))
    case_llama_scope()
    case_sparsify_topk()
    case_sparsify_transcoder()
    case_dl_standard()
    case_dl_topk(batch=False)
    case_dl_topk(batch=True)
    case_dl_matryoshka()
    case_dl_jumprelu()
    case_dl_gated()
    case_openai_topk()
    case_openai_relu()
    for case, path, frac in CASES:
        print(f"{case:34s} active {frac:.2f}  {path}")


if __name__ == "__main__":
    sys.exit(main())
