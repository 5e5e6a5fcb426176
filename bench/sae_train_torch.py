#!/usr/bin/python3
"""Baseline for bench_sae_train: the same SAE training step in PyTorch eager,
written the way SAELens trains a standard SAE (ReLU encoder, MSE summed over
d_in and averaged over tokens, L1 weighted by decoder row norm, autograd,
clip_grad_norm_(1.0), torch.optim.Adam, dead-feature counters).

Prints one JSON line: {"tokens_per_s": ..., "step_s": [...], "threads": ...}.
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--d-in", type=int, default=768)
    ap.add_argument("--d-sae", type=int, default=6144)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--l1", type=float, default=5.0)
    ap.add_argument("--lr", type=float, default=3e-4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    W_dec = torch.randn(a.d_sae, a.d_in)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    W_dec = torch.nn.Parameter(W_dec)
    W_enc = torch.nn.Parameter(W_dec.detach().T.clone().contiguous())
    b_enc = torch.nn.Parameter(torch.zeros(a.d_sae))
    b_dec = torch.nn.Parameter(torch.zeros(a.d_in))
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999))
    since_fired = torch.zeros(a.d_sae)
    x = torch.randn(a.batch, a.d_in)

    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        sae_in = x - b_dec
        hidden_pre = sae_in @ W_enc + b_enc
        feature_acts = torch.relu(hidden_pre)
        sae_out = feature_acts @ W_dec + b_dec
        mse_loss = (sae_out - x).pow(2).sum(dim=-1).mean()
        l1_loss = a.l1 * (feature_acts * W_dec.norm(dim=1)).norm(p=1, dim=-1).mean()
        loss = mse_loss + l1_loss
        with torch.no_grad():
            did_fire = (feature_acts > 0).float().sum(-2) > 0
            since_fired += 1
            since_fired[did_fire] = 0
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        loss.item()  # the C++ trainer syncs on the loss every step too
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    total = sum(times)
    print(json.dumps({"tokens_per_s": a.batch * len(times) / total, "step_s": times,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
