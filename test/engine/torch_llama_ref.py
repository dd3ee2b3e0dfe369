"""Independent float64 reference of the Hugging Face Llama / Qwen2 forward (rotate_half RoPE with transformers' llama3
and linear rope scaling, repeat_kv GQA, RMSNorm, SwiGLU, Qwen2's q/k/v biases, tied embeddings, PEFT-style LoRA,
TRL-style value head) in PyTorch autograd, for the engine parity tests.

Reads JSON from stdin: tokens/targets/mask (B*T), optional dvalues, lora scaling, and either
  - "config" (engine keys) + "params" {name: flat list} + "shapes", or
  - "dir": a Hugging Face model directory, whose config.json (HF keys) and safetensors weights (single file or shards
    with model.safetensors.index.json; F32/F16/BF16) are read here with struct + torch.frombuffer, independently of
    the engine's loader; "params"/"shapes" then add (or override) tensors, e.g. LoRA adapters.
Writes JSON: logits, values (when there is a value head), ce, and the gradient of every parameter.
"""
import json
import math
import os
import struct
import sys

import torch

torch.set_num_threads(1)
d = json.load(sys.stdin)
f64 = torch.float64
DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_dir_weights(root):
    index = os.path.join(root, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    out = {}
    for f in files:
        raw = open(os.path.join(root, f), "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        for name, e in header.items():
            if name == "__metadata__":
                continue
            a, b = e["data_offsets"]
            buf = bytearray(raw[8 + n + a : 8 + n + b])
            out[name] = torch.frombuffer(buf, dtype=DT[e["dtype"]]).to(f64).reshape(e["shape"])
    return out


if "dir" in d:
    hf = json.load(open(os.path.join(d["dir"], "config.json")))
    C, H, L = hf["hidden_size"], hf["num_attention_heads"], hf["num_hidden_layers"]
    KVH = hf.get("num_key_value_heads") or H
    eps = hf.get("rms_norm_eps", 1e-6)
    theta = hf.get("rope_theta", 10000.0)
    rs = hf.get("rope_scaling")
    weights = read_dir_weights(d["dir"])
    if hf.get("tie_word_embeddings", False):
        weights.pop("lm_head.weight", None)
else:
    cfg = d["config"]
    C, H, KVH, L = cfg["dModel"], cfg["nHeads"], cfg["nKvHeads"], cfg["nLayers"]
    eps, theta, rs = cfg["rmsNormEps"], cfg["ropeTheta"], None
    weights = {}
for k, v in d.get("params", {}).items():
    weights[k] = torch.tensor(v, dtype=f64).reshape(d["shapes"][k])
P = {k: t.detach().clone().requires_grad_(True) for k, t in weights.items()}
B, T = d["B"], d["T"]
hd = C // H
scaling = d.get("loraScaling", 1.0)
tokens = torch.tensor(d["tokens"]).view(B, T)


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def lin(x, name):
    y = x @ P[name + ".weight"].T
    if name + ".bias" in P:
        y = y + P[name + ".bias"]
    a = P.get(name + ".lora_A.weight")
    if a is not None:
        y = y + (x @ a.T) @ P[name + ".lora_B.weight"].T * scaling
    return y


inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=f64) / hd))
rope_type = (rs or {}).get("rope_type", (rs or {}).get("type"))
if rope_type == "llama3":
    # transformers' _compute_llama3_parameters
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > old / lo, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
    inv_freq = torch.where(medium, smoothed, scaled)
elif rope_type == "linear":
    inv_freq = inv_freq / rs["factor"]
elif rope_type not in (None, "default"):
    raise SystemExit(f"reference: rope type {rope_type} not implemented")
freqs = torch.outer(torch.arange(T, dtype=f64), inv_freq)
emb = torch.cat((freqs, freqs), -1)
cos, sin = emb.cos(), emb.sin()


def rotate_half(x):
    return torch.cat((-x[..., hd // 2 :], x[..., : hd // 2]), -1)


def rope(x):  # (B, heads, T, hd)
    return x * cos + rotate_half(x) * sin


causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
x = P["model.embed_tokens.weight"][tokens]
for l in range(L):
    p = f"model.layers.{l}"
    h = rms(x, P[p + ".input_layernorm.weight"])
    q = lin(h, p + ".self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
    k = lin(h, p + ".self_attn.k_proj").view(B, T, KVH, hd).transpose(1, 2)
    v = lin(h, p + ".self_attn.v_proj").view(B, T, KVH, hd).transpose(1, 2)
    q, k = rope(q), rope(k)
    k = k.repeat_interleave(H // KVH, dim=1)
    v = v.repeat_interleave(H // KVH, dim=1)
    s = (q @ k.transpose(-1, -2) / math.sqrt(hd)).masked_fill(causal, float("-inf"))
    a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
    x = x + lin(a, p + ".self_attn.o_proj")
    h = rms(x, P[p + ".post_attention_layernorm.weight"])
    x = x + lin(torch.nn.functional.silu(lin(h, p + ".mlp.gate_proj")) * lin(h, p + ".mlp.up_proj"), p + ".mlp.down_proj")
x = rms(x, P["model.norm.weight"])
head = P["lm_head.weight"] if "lm_head.weight" in P else P["model.embed_tokens.weight"]
logits = x @ head.T
targets = torch.tensor(d["targets"])
mask = torch.tensor(d["mask"], dtype=torch.bool)
ce = torch.nn.functional.cross_entropy(logits.view(B * T, -1)[mask], targets[mask])
loss = ce
values = None
if "v_head.weight" in P:
    values = (x @ P["v_head.weight"].T).squeeze(-1) + P["v_head.bias"]
    loss = loss + (values.view(-1) * torch.tensor(d["dvalues"], dtype=f64)).sum()
loss.backward()
json.dump(
    {
        "logits": logits.detach().view(-1).tolist(),
        "values": values.detach().view(-1).tolist() if values is not None else None,
        "ce": ce.item(),
        "grads": {k: t.grad.view(-1).tolist() for k, t in P.items() if t.grad is not None},
    },
    sys.stdout,
)
