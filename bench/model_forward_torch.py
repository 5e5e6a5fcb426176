#!/usr/bin/python3
"""Baseline for bench_model_forward: the same GPT-2 forward pass in PyTorch eager.

Written the way Hugging Face's GPT2Model runs it (Conv1D = addmm on [in, out]
weights, split Q|K|V, matmul / sqrt(d_head), causal torch.where, softmax,
matmul, merge heads), but with PyTorch's fused F.layer_norm and
F.gelu(approximate="tanh") -- the fastest eager form of the same math.
Random GPT-2-shaped weights, no unembedding: it stops after the last block
asked for, like the C++ run up to blocks.N.hook_resid_post.
Prints `best_tokens_per_s` (and the median); run with /usr/bin/python3 (Debian's torch).
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F


def random_model(layers, d, d_mlp, vocab, positions, gen):
    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen) * std

    blocks = []
    for _ in range(layers):
        blocks.append(dict(
            ln1_g=torch.ones(d), ln1_b=torch.zeros(d),
            c_attn_w=normal(d, 3 * d), c_attn_b=torch.zeros(3 * d),
            c_proj_w=normal(d, d), c_proj_b=torch.zeros(d),
            ln2_g=torch.ones(d), ln2_b=torch.zeros(d),
            fc_w=normal(d, d_mlp), fc_b=torch.zeros(d_mlp),
            proj_w=normal(d_mlp, d), proj_b=torch.zeros(d)))
    return normal(vocab, d), normal(positions, d, std=0.01), blocks


def forward(ids, wte, wpe, blocks, n_blocks, n_head, causal, eps=1e-5):
    B, T = ids.shape
    d = wte.shape[1]
    dh = d // n_head
    h = F.embedding(ids, wte) + F.embedding(torch.arange(T).unsqueeze(0), wpe)
    mask_value = torch.finfo(h.dtype).min
    for w in blocks[:n_blocks]:
        a = F.layer_norm(h, (d,), w["ln1_g"], w["ln1_b"], eps)
        qkv = torch.addmm(w["c_attn_b"], a.view(-1, d), w["c_attn_w"]).view(B, T, 3 * d)
        q, k, v = (t.view(B, T, n_head, dh).permute(0, 2, 1, 3) for t in qkv.split(d, dim=2))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        scores = torch.where(causal[:T, :T], scores, torch.tensor(mask_value, dtype=scores.dtype))
        pattern = torch.softmax(scores, dim=-1)
        z = torch.matmul(pattern, v).permute(0, 2, 1, 3).contiguous().view(B * T, d)
        h = h + torch.addmm(w["c_proj_b"], z, w["c_proj_w"]).view(B, T, d)
        m = F.layer_norm(h, (d,), w["ln2_g"], w["ln2_b"], eps)
        post = F.gelu(torch.addmm(w["fc_b"], m.view(-1, d), w["fc_w"]), approximate="tanh")
        h = h + torch.addmm(w["proj_b"], post, w["proj_w"]).view(B, T, d)
    return h


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--blocks", type=int, default=12)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--d-model", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--positions", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    wte, wpe, blocks = random_model(a.layers, a.d_model, 4 * a.d_model, a.vocab, a.positions, gen)
    causal = torch.tril(torch.ones(a.positions, a.positions, dtype=torch.bool))
    ids = torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen)
    times = []
    with torch.inference_mode():
        forward(ids, wte, wpe, blocks, a.blocks, a.heads, causal)  # warm-up
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            forward(ids, wte, wpe, blocks, a.blocks, a.heads, causal)
            times.append(time.perf_counter() - t0)
    tokens = a.batch * a.seq
    print(f"threads {torch.get_num_threads()}")
    print(f"best_seconds {min(times):.6f}")
    print(f"best_tokens_per_s {tokens / min(times):.3f}")
    print(f"median_tokens_per_s {tokens / statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
