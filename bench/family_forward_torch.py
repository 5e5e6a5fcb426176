#!/usr/bin/python3
"""Baseline for bench_family_forward: the same Llama- or Gemma-2-shaped forward
pass in PyTorch eager, written the way Hugging Face's eager attention runs it
(F.linear projections, RMSNorm in float32, rotate_half RoPE, repeat_kv,
matmul / softmax / matmul, SwiGLU or GeGLU; Gemma: √d embedding scale, 1 + w
norms, four per layer, soft-capped scores). Random weights; it stops after the
last block, like the C++ run up to blocks.N.hook_resid_post.
Prints `best_tokens_per_s`; run with /usr/bin/python3 (Debian's torch).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def rms(x, w, eps=1e-6, gemma=False):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return xf * (1.0 + w) if gemma else w * xf


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def main():
    p = argparse.ArgumentParser()
    for name in ("threads", "layers", "d", "heads", "kv-heads", "head-dim", "d-mlp", "vocab"):
        p.add_argument("--" + name, type=int, required=True)
    p.add_argument("--family", required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gemma = a.family == "gemma2"
    g = torch.Generator().manual_seed(0)
    n = lambda *s: torch.randn(*s, generator=g) * 0.02
    H, Hkv, Dh, d = a.heads, a.kv_heads, a.head_dim, a.d
    layers = [dict(ln=[n(d) for _ in range(4 if gemma else 2)], q=n(H * Dh, d), k=n(Hkv * Dh, d),
                   v=n(Hkv * Dh, d), o=n(d, H * Dh), gate=n(a.d_mlp, d), up=n(a.d_mlp, d), down=n(d, a.d_mlp))
              for _ in range(a.layers)]
    embed = n(a.vocab, d)
    B, T = a.batch, a.seq
    inv_freq = 1.0 / (500000.0 ** (torch.arange(0, Dh, 2).float() / Dh))
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    scale = 256 ** -0.5 if gemma else Dh ** -0.5
    ids = torch.randint(0, a.vocab, (B, T), generator=g)

    def forward():
        x = F.embedding(ids, embed)
        if gemma:
            x = x * torch.tensor(d ** 0.5, dtype=x.dtype)
        for w in layers:
            h = rms(x, w["ln"][0], gemma=gemma)
            q = F.linear(h, w["q"]).view(B, T, H, Dh).transpose(1, 2)
            k = F.linear(h, w["k"]).view(B, T, Hkv, Dh).transpose(1, 2)
            v = F.linear(h, w["v"]).view(B, T, Hkv, Dh).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // Hkv, dim=1)
            v = v.repeat_interleave(H // Hkv, dim=1)
            s = torch.matmul(q, k.transpose(2, 3)) * scale
            if gemma:
                s = torch.tanh(s / 50.0) * 50.0
            attn = torch.matmul(torch.softmax(s + mask, dim=-1), v).transpose(1, 2).reshape(B, T, H * Dh)
            attn = F.linear(attn, w["o"])
            x = x + (rms(attn, w["ln"][1], gemma=True) if gemma else attn)
            h = rms(x, w["ln"][2 if gemma else 1], gemma=gemma)
            act = F.gelu(F.linear(h, w["gate"]), approximate="tanh") if gemma else F.silu(F.linear(h, w["gate"]))
            m = F.linear(act * F.linear(h, w["up"]), w["down"])
            x = x + (rms(m, w["ln"][3], gemma=True) if gemma else m)
        return x

    with torch.inference_mode():
        forward()  # warm-up
        best = 1e300
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            forward()
            best = min(best, time.perf_counter() - t0)
    print(f"best_tokens_per_s {B * T / best}")


if __name__ == "__main__":
    main()
