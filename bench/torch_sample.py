#!/usr/bin/env python3
"""A plain PyTorch KV-cached sampling loop, as the anchor for `npm run bench -- lm`.

The same reference model as bench/lm.ts (vocab 512, d_model 256, 4 layers, 4 heads, SwiGLU 688,
RMSNorm, rotate-half RoPE, untied head; random weights) and the same work: B distinct prompts of
32 tokens, N new tokens each, temperature 1, top-p 0.95, no stop token. The loop is what a user
would write: one prefill forward that fills a preallocated (B, H, T, hd) cache, then one forward
per token with the new position's K/V written into it, softmax, nucleus filter, multinomial.
Runs under torch.inference_mode(). Prints one JSON line:
{"torch": version, "threads": n, "rows": [{"batch": B, "ms": best, "tokensPerSec": ...}, ...]}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The same layers as the training anchor (bench/torch_step.py, beside this file); only the
# attention's forward differs here (it writes to and reads from the KV cache).
from torch_step import D, HD, HEADS, LAYERS, VOCAB, Block, RMSNorm, rotate_half

PROMPT = 32


class CachedBlock(Block):
    def forward(self, x, cos, sin, cache_k, cache_v, start):
        # x: (B, T, D); cos/sin: (T, hd) for positions start..start+T; cache_*: (B, H, Tmax, hd)
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, HEADS, HD).transpose(1, 2)  # (B, H, T, hd)
        k = self.k(h).view(b, t, HEADS, HD).transpose(1, 2)
        v = self.v(h).view(b, t, HEADS, HD).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        cache_k[:, :, start : start + t] = k
        cache_v[:, :, start : start + t] = v
        keys, vals = cache_k[:, :, : start + t], cache_v[:, :, : start + t]
        s = (q @ keys.transpose(-1, -2)) / math.sqrt(HD)  # (B, H, T, start+T)
        if t > 1:
            s = s + torch.full((t, start + t), float("-inf")).triu(start + 1)
        a = (F.softmax(s, -1) @ vals).transpose(1, 2).reshape(b, t, D)
        x = x + self.o(a)
        h2 = self.n2(x)
        return x + self.down(F.silu(self.gate(h2)) * self.up(h2))


class Model(nn.Module):
    def __init__(self, max_len):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.blocks = nn.ModuleList(CachedBlock() for _ in range(LAYERS))
        self.norm = RMSNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)
        inv = 10000.0 ** (-torch.arange(0, HD, 2, dtype=torch.float32) / HD)
        ang = torch.outer(torch.arange(max_len, dtype=torch.float32), inv)
        self.cos = torch.cat([ang.cos(), ang.cos()], -1)
        self.sin = torch.cat([ang.sin(), ang.sin()], -1)

    def forward(self, ids, caches, start):
        t = ids.shape[1]
        cos, sin = self.cos[start : start + t], self.sin[start : start + t]
        x = self.embed(ids)
        for blk, (ck, cv) in zip(self.blocks, caches):
            x = blk(x, cos, sin, ck, cv, start)
        return self.head(self.norm(x[:, -1]))  # (B, V): logits at the last position only


def sample(logits, top_p, gen):
    probs = F.softmax(logits, -1)
    sp, si = probs.sort(-1, descending=True)
    keep = sp.cumsum(-1) - sp < top_p  # the smallest prefix whose mass reaches top_p
    sp = sp * keep
    pick = torch.multinomial(sp / sp.sum(-1, keepdim=True), 1, generator=gen)
    return si.gather(-1, pick)  # (B, 1)


def run(model, batch, new_tokens, gen):
    ids = torch.randint(0, 256, (batch, PROMPT), generator=gen)
    tmax = PROMPT + new_tokens
    caches = [(torch.zeros(batch, HEADS, tmax, HD), torch.zeros(batch, HEADS, tmax, HD)) for _ in range(LAYERS)]
    logits = model(ids, caches, 0)
    tok = sample(logits, 0.95, gen)
    for step in range(1, new_tokens):
        logits = model(tok, caches, PROMPT + step - 1)
        tok = sample(logits, 0.95, gen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,16,64")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = Model(PROMPT + args.tokens).eval()
    rows = []
    with torch.inference_mode():
        run(model, 2, 4, gen)  # warm-up
        for b in (int(x) for x in args.batches.split(",")):
            best = math.inf
            for _ in range(3 if b == 1 else 2):
                t0 = time.perf_counter()
                run(model, b, args.tokens, gen)
                best = min(best, (time.perf_counter() - t0) * 1000)
            rows.append({"batch": b, "ms": best, "tokensPerSec": b * args.tokens / (best / 1000)})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
