#!/usr/bin/env python3
"""Independent PyTorch forward pass over genrm's Hugging Face layout: the oracle for conventions.

genrm writes tiny random models as HF folders (config.json + model.safetensors): Llama with GQA and
an untied head, Llama with a tied head and llama3 RoPE scaling, Qwen2 with q/k/v biases. This
script reads each safetensors file itself (header JSON + raw little-endian F32, no `safetensors`
package), runs the forward pass the way transformers' modeling_llama / modeling_qwen2 define it
(RMSNorm, Linear weights [out, in], rotate-half RoPE with inv_freq = theta^(-2i/d) and the llama3
frequency rule, repeat_kv for grouped-query attention, causal softmax, SwiGLU) and compares its
logits with genrm's for the same token ids.

    /usr/bin/python3 bench/hf_oracle.py          (Debian's python3-torch; prints "skipped" without torch)

Exit status 1 when any case differs by more than 1e-4 (fp32 accumulation-order noise is ~1e-6).
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:  # noqa: F841
    print(f"hf_oracle: skipped (torch/numpy not importable by {sys.executable}: {e}); try /usr/bin/python3 with python3-torch")
    sys.exit(0)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DRIVER = """
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveHfModel } from '%(repo)s/src/engine/hf/index.js';
import { Llama } from '%(repo)s/src/engine/model/llama.js';
import { KvCache } from '%(repo)s/src/engine/model/kv-cache.js';
import { forwardCached } from '%(repo)s/src/engine/model/infer.js';
import { Prng } from '%(repo)s/src/engine/prng.js';
import { Tokenizer, toTokenizerJson } from '%(repo)s/src/engine/tokenizer/index.js';
const tok = Tokenizer.byteLevel();
const base = { vocabSize: tok.vocabSize, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnHidden: 48, maxSeqLen: 64, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: false };
const cases = {
  llama_gqa: base,
  llama_tied_llama3: { ...base, tieEmbeddings: true, ropeTheta: 500000, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 } },
  qwen2_bias: { ...base, nKvHeads: 1, attentionBias: true, ropeTheta: 1e6 },
};
const ids = tok.encode('The judge says [[A]] because 12+30=42.', { specials: 'plain' }).slice(0, 40);
const out = {};
for (const [name, cfg] of Object.entries(cases)) {
  const m = new Llama(cfg, { seed: 3 });
  const rng = new Prng(11);
  for (const [n, t] of m.params) for (let i = 0; i < t.size; i++) t.data[i] = (n.includes('norm') ? 1 : 0) + 0.2 * rng.normal();
  const dir = join(%(tmp)s, name);
  saveHfModel(dir, m, { tokenizerJson: toTokenizerJson(tok) });
  const logits = forwardCached(m, new KvCache(cfg, 1, ids.length), Int32Array.from(ids), ids.length, { logitsFor: 'all' });
  out[name] = { dir, logits: Array.from(logits) };
}
writeFileSync(join(%(tmp)s, 'genrm.json'), JSON.stringify({ ids, cases: out }));
"""


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", f"{path}: {name} is {e['dtype']} (the oracle reads F32)"
        b, end = e["data_offsets"]
        arr = np.frombuffer(buf[8 + n + b : 8 + n + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def inv_freq(cfg, hd):
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        f, lo, hi, ctx = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wl = 2 * math.pi / inv
        scaled = torch.where(wl > ctx / lo, inv / f, inv)
        smooth = (ctx / wl - lo) / (hi - lo)
        mid = (wl >= ctx / hi) & (wl <= ctx / lo)
        inv = torch.where(mid, (1 - smooth) * scaled / f + smooth * scaled, scaled)
    elif rs:
        raise SystemExit(f"oracle: rope_scaling {rs} not implemented")
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def forward(cfg, w, ids):
    d, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps, T = d // H, cfg["rms_norm_eps"], len(ids)
    norm = lambda x, g: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g
    lin = lambda x, name: x @ w[name + ".weight"].T + (w[name + ".bias"] if name + ".bias" in w else 0)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq(cfg, hd)[None, :]  # (T, hd/2)
    cos = torch.cat([ang.cos(), ang.cos()], -1).float()[:, None, :]  # (T, 1, hd)
    sin = torch.cat([ang.sin(), ang.sin()], -1).float()[:, None, :]
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]  # (T, d)
    causal = torch.full((T, T), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = norm(x, w[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(T, H, hd)
        k = lin(h, p + "self_attn.k_proj").view(T, KV, hd)
        v = lin(h, p + "self_attn.v_proj").view(T, KV, hd)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)  # repeat_kv
        s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + causal
        a = torch.einsum("hts,shd->thd", s.softmax(-1), v).reshape(T, H * hd)
        x = x + lin(a, p + "self_attn.o_proj")
        h = norm(x, w[p + "post_attention_layernorm.weight"])
        x = x + lin(torch.nn.functional.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = norm(x, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        driver = os.path.join(tmp, "driver.ts")
        with open(driver, "w") as f:
            f.write(DRIVER % {"repo": REPO, "tmp": json.dumps(tmp)})
        subprocess.run(["npx", "tsx", driver], cwd=REPO, check=True)
        with open(os.path.join(tmp, "genrm.json")) as f:
            g = json.load(f)
        worst = 0.0
        for name, c in g["cases"].items():
            with open(os.path.join(c["dir"], "config.json")) as f:
                cfg = json.load(f)
            ref = forward(cfg, read_safetensors(os.path.join(c["dir"], "model.safetensors")), g["ids"])
            ours = torch.tensor(c["logits"]).view(ref.shape)
            diff = (ref - ours).abs().max().item()
            worst = max(worst, diff)
            print(f"{name:20s} T={len(g['ids'])} vocab={ref.shape[1]} max|torch - genrm| = {diff:.2e}  argmax agree {(ref.argmax(-1) == ours.argmax(-1)).float().mean().item():.3f}")
        print(f"hf_oracle: {'ok' if worst <= 1e-4 else 'MISMATCH'} (worst {worst:.2e}, tolerance 1e-4; torch {torch.__version__})")
        sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
