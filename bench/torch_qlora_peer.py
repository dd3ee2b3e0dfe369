"""PyTorch peer of bench/qlora-driver.ts: the same Qwen2/Llama-shaped random model (q/k/v biases, GQA, tied
embeddings), frozen float32 (or bfloat16) base with LoRA (rank 16, alpha 32, dropout 0.05) on all seven projections,
AdamW on the adapters; a training step computes logits only at the completion rows, as the engine does; sampling
decodes with a KV cache. One measurement per process (peak RSS is per process); prints one JSON line.

  /usr/bin/python3 bench/torch_qlora_peer.py '<same JSON spec as the driver; storage "f32" or "bf16">'
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

spec = json.loads(sys.argv[1])
torch.set_num_threads(spec["threads"])
c = spec["config"]
DT = torch.bfloat16 if spec["storage"] == "bf16" else torch.float32
C, H, L, V, FF = c["dModel"], c["nHeads"], c["nLayers"], c["vocabSize"], c["dFf"]
KV = c.get("nKvHeads") or H
hd = C // H
R, ALPHA, DROP = 16, 32, 0.05


class LoraLinear(nn.Module):
    def __init__(self, i, o, bias):
        super().__init__()
        self.w = nn.Parameter(torch.randn(o, i, dtype=DT) * 0.02, requires_grad=False)
        self.b = nn.Parameter(torch.zeros(o, dtype=DT), requires_grad=False) if bias else None
        self.A = nn.Parameter(torch.empty(R, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
        self.B = nn.Parameter(torch.zeros(o, R))

    def forward(self, x):
        y = F.linear(x.to(DT), self.w, self.b).float()
        return y + F.linear(F.linear(F.dropout(x, DROP, self.training), self.A), self.B) * (ALPHA / R)


def rms(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        bias = bool(c.get("qkvBias", False))
        self.ln1 = nn.Parameter(torch.ones(C), requires_grad=False)
        self.ln2 = nn.Parameter(torch.ones(C), requires_grad=False)
        self.q, self.k, self.v = LoraLinear(C, C, bias), LoraLinear(C, KV * hd, bias), LoraLinear(C, KV * hd, bias)
        self.o = LoraLinear(C, C, False)
        self.g, self.u, self.d = LoraLinear(C, FF, False), LoraLinear(C, FF, False), LoraLinear(FF, C, False)

    def forward(self, x, cos, sin, cache=None, pos=0):
        B, T, _ = x.shape
        h = rms(x, self.ln1)
        q = self.q(h).view(B, T, H, hd).transpose(1, 2)
        k = self.k(h).view(B, T, KV, hd).transpose(1, 2)
        v = self.v(h).view(B, T, KV, hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos : pos + T] = k
            vc[:, :, pos : pos + T] = v
            k, v = kc[:, :, : pos + T], vc[:, :, : pos + T]
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        S = k.shape[2]
        mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, C))
        h = rms(x, self.ln2)
        return x + self.d(F.silu(self.g(h)) * self.u(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Parameter(torch.randn(V, C, dtype=DT) * 0.02, requires_grad=False)
        self.layers = nn.ModuleList([Block() for _ in range(L)])
        self.norm = nn.Parameter(torch.ones(C), requires_grad=False)
        ang = torch.arange(c["maxSeq"], dtype=torch.float64)[:, None] * torch.pow(
            float(c.get("ropeTheta", 10000.0)), -2 * torch.arange(hd // 2, dtype=torch.float64) / hd
        )
        self.cos, self.sin = ang.cos().float(), ang.sin().float()

    def hidden(self, idx, caches=None, pos=0):
        T = idx.shape[1]
        x = self.emb[idx].float()
        cos, sin = self.cos[pos : pos + T], self.sin[pos : pos + T]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i], pos)
        return rms(x, self.norm)

    def head(self, h):
        return F.linear(h.to(DT), self.emb).float()


torch.manual_seed(0)
t0 = time.perf_counter()
m = Model()
build = time.perf_counter() - t0
g = torch.Generator().manual_seed(1)
clock = time.process_time if spec["threads"] == 1 else time.perf_counter
times = []
if spec["what"] == "train":
    B, T, comp = spec["B"], spec["T"], spec["completion"]
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, V, (B, T), generator=g)
    targets = torch.randint(0, V, (B * comp,), generator=g)
    m.train()
    for s in range(spec["steps"] + 1):
        c0 = clock()
        opt.zero_grad(set_to_none=False)
        h = m.hidden(ids)[:, T - comp :].reshape(-1, C)
        loss = F.cross_entropy(m.head(h), targets)
        loss.backward()
        opt.step()
        if s > 0:
            times.append(clock() - c0)
    tokens = B * T
else:
    B, P, N = spec["B"], spec["promptLen"], spec["newTokens"]
    prompts = torch.randint(0, V, (B, P), generator=g)
    m.eval()
    with torch.no_grad():
        for s in range(spec["steps"] + 1):
            c0 = clock()
            caches = [(torch.zeros(B, KV, P + N, hd), torch.zeros(B, KV, P + N, hd)) for _ in range(L)]
            logits = m.head(m.hidden(prompts, caches, 0)[:, -1])
            pos = P
            for i in range(N):
                logp = logits.log_softmax(-1)
                nxt = torch.multinomial(logits.softmax(-1), 1, generator=g)
                _lp, _ent = logp.gather(1, nxt), -(logp.exp() * logp).sum(-1)
                if i == N - 1:
                    break
                logits = m.head(m.hidden(nxt, caches, pos)[:, -1])
                pos += 1
            if s > 0:
                times.append(clock() - c0)
    tokens = B * N
best = min(times)
print(
    json.dumps(
        {
            "storage": "torch-" + spec["storage"],
            "what": spec["what"],
            "tokensPerS": tokens / best,
            "secondsPerStep": best,
            "buildS": build,
            "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch": torch.__version__,
        }
    )
)
