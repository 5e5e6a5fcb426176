#!/usr/bin/python3
"""Baseline for bench_generation: greedy GPT-2 generation with a KV cache in PyTorch eager.

The math of Hugging Face's GPT2LMHeadModel.generate with use_cache=True,
written out: the prompt in one pass, then one position per step whose keys
and values join the cache with torch.cat (HF's DynamicCache), layer norm,
Conv1D as addmm, softmax attention over the cached keys, tanh GELU, the final
layer norm, logits of the last position against the tied embedding, argmax.
Random GPT-2-small weights, batch 1. Prints `best_tokens_per_s` (new tokens
per second of the whole generation, prompt included in the time).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def random_model(layers, d, d_mlp, vocab, positions, gen):
    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen) * std

    blocks = [dict(ln1_g=torch.ones(d), ln1_b=torch.zeros(d),
                   c_attn_w=normal(d, 3 * d), c_attn_b=torch.zeros(3 * d),
                   c_proj_w=normal(d, d), c_proj_b=torch.zeros(d),
                   ln2_g=torch.ones(d), ln2_b=torch.zeros(d),
                   fc_w=normal(d, d_mlp), fc_b=torch.zeros(d_mlp),
                   proj_w=normal(d_mlp, d), proj_b=torch.zeros(d)) for _ in range(layers)]
    return normal(vocab, d), normal(positions, d, std=0.01), blocks, torch.ones(d), torch.zeros(d)


def step(ids, past, wte, wpe, blocks, lnf_g, lnf_b, n_head, eps=1e-5):
    """ids [1, T] after `past` cached positions; returns the last position's logits."""
    B, T = ids.shape
    d = wte.shape[1]
    dh = d // n_head
    start = past[0][0].shape[2] if past[0] is not None else 0
    h = F.embedding(ids, wte) + wpe[start:start + T].unsqueeze(0)
    for i, w in enumerate(blocks):
        a = F.layer_norm(h, (d,), w["ln1_g"], w["ln1_b"], eps)
        qkv = torch.addmm(w["c_attn_b"], a.view(-1, d), w["c_attn_w"]).view(B, T, 3 * d)
        q, k, v = (t.view(B, T, n_head, dh).permute(0, 2, 1, 3) for t in qkv.split(d, dim=2))
        if past[i] is not None:
            k = torch.cat([past[i][0], k], dim=2)
            v = torch.cat([past[i][1], v], dim=2)
        past[i] = (k, v)
        S = k.shape[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        if T > 1:
            causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min))
        z = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous().view(B * T, d)
        h = h + torch.addmm(w["c_proj_b"], z, w["c_proj_w"]).view(B, T, d)
        m = F.layer_norm(h, (d,), w["ln2_g"], w["ln2_b"], eps)
        post = F.gelu(torch.addmm(w["fc_b"], m.view(-1, d), w["fc_w"]), approximate="tanh")
        h = h + torch.addmm(w["proj_b"], post, w["proj_w"]).view(B, T, d)
    last = F.layer_norm(h[:, -1], (d,), lnf_g, lnf_b, eps)
    return last @ wte.t()


def generate(prompt, new_tokens, model, n_head):
    wte, wpe, blocks, lnf_g, lnf_b = model
    past = [None] * len(blocks)
    logits = step(prompt, past, wte, wpe, blocks, lnf_g, lnf_b, n_head)
    out = []
    for n in range(new_tokens):
        nxt = int(logits.argmax(-1))
        out.append(nxt)
        if n + 1 < new_tokens:
            logits = step(torch.tensor([[nxt]]), past, wte, wpe, blocks, lnf_g, lnf_b, n_head)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--new", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    model = random_model(12, 768, 3072, 50257, 1024, gen)
    prompt = torch.randint(0, 50257, (1, a.prompt), generator=gen)
    times = []
    with torch.inference_mode():
        generate(prompt, 4, model, 12)  # warm-up
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            generate(prompt, a.new, model, 12)
            times.append(time.perf_counter() - t0)
    print(f"threads {torch.get_num_threads()}")
    print(f"best_seconds {min(times):.6f}")
    print(f"best_tokens_per_s {a.new / min(times):.3f}")


if __name__ == "__main__":
    main()
