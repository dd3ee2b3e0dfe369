"""Independent float64 reference of the Hugging Face Llama forward (rotate_half RoPE, repeat_kv GQA, RMSNorm, SwiGLU,
PEFT-style LoRA, TRL-style value head) in PyTorch autograd, for the engine parity test.

Reads JSON from stdin: config, params {name: flat list}, shapes, tokens/targets/mask/dvalues (B*T), lora scaling.
Writes JSON: logits, values, loss and the gradient of every parameter.
"""
import json
import math
import sys

import torch

torch.set_num_threads(1)
d = json.load(sys.stdin)
cfg = d["config"]
f64 = torch.float64
P = {k: torch.tensor(v, dtype=f64).reshape(d["shapes"][k]).requires_grad_(True) for k, v in d["params"].items()}
B, T = d["B"], d["T"]
C, H, KVH, L = cfg["dModel"], cfg["nHeads"], cfg["nKvHeads"], cfg["nLayers"]
hd = C // H
eps = cfg["rmsNormEps"]
scaling = d["loraScaling"]
tokens = torch.tensor(d["tokens"]).view(B, T)


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def lin(x, name):
    y = x @ P[name + ".weight"].T
    a = P.get(name + ".lora_A.weight")
    if a is not None:
        y = y + (x @ a.T) @ P[name + ".lora_B.weight"].T * scaling
    return y


inv_freq = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, hd, 2, dtype=f64) / hd))
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
values = (x @ P["v_head.weight"].T).squeeze(-1) + P["v_head.bias"]
targets = torch.tensor(d["targets"])
mask = torch.tensor(d["mask"], dtype=torch.bool)
ce = torch.nn.functional.cross_entropy(logits.view(B * T, -1)[mask], targets[mask])
loss = ce + (values.view(-1) * torch.tensor(d["dvalues"], dtype=f64)).sum()
loss.backward()
json.dump(
    {
        "logits": logits.detach().view(-1).tolist(),
        "values": values.detach().view(-1).tolist(),
        "ce": ce.item(),
        "grads": {k: t.grad.view(-1).tolist() for k, t in P.items() if t.grad is not None},
    },
    sys.stdout,
)
