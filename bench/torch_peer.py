"""PyTorch peer of the mst engine benchmark: the same Llama architecture in plain torch, timed the same way.

Usage (bench/engine.ts runs it):  /usr/bin/python3 bench/torch_peer.py --serve   (one JSON request per stdin line,
  see serve(): the engine bench alternates rounds of ours and the peer's), or one-shot:
  /usr/bin/python3 bench/torch_peer.py '<json spec>'
  spec = {"threads": 2, "gemm": [[M, N, K, transA, transB], ...],
          "cases": [{"name", "config": {vocabSize, dModel, nLayers, nHeads, nKvHeads, dFf, maxSeq, ropeTheta,
                     rmsNormEps, tieEmbeddings}, "train": {"batch", "seq", "steps"},
                     "sample": {"batch", "promptLen", "newTokens", "reps"}}]}
Prints one JSON object: {"torch": version, "gemm": [gflops...], "cases": [{name, trainTokensPerS, sampleTokensPerS}]}.

Also:  /usr/bin/python3 bench/torch_peer.py --logits CHECKPOINT_DIR '<json tokens [[...], ...]>' [DIR TOKENS ...]
prints the logits of mst checkpoints (a JSON list, one entry per checkpoint) (read with struct + json, no safetensors package) as JSON, for parity tests.
"""

import json
import math
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    # Hugging Face rotate_half convention: dimension i pairs with i + hd/2. x (B,H,T,hd), cos/sin (T,hd/2) or (B,1,T,hd/2)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, H, KV = c["dModel"], c["nHeads"], c["nKvHeads"]
        self.H, self.KV, self.hd = H, KV, C // H
        self.input_layernorm = RMSNorm(C, c["rmsNormEps"])
        self.post_attention_layernorm = RMSNorm(C, c["rmsNormEps"])
        self.q_proj = nn.Linear(C, C, bias=False)
        self.k_proj = nn.Linear(C, KV * self.hd, bias=False)
        self.v_proj = nn.Linear(C, KV * self.hd, bias=False)
        self.o_proj = nn.Linear(C, C, bias=False)
        self.gate_proj = nn.Linear(C, c["dFf"], bias=False)
        self.up_proj = nn.Linear(C, c["dFf"], bias=False)
        self.down_proj = nn.Linear(c["dFf"], C, bias=False)

    def forward(self, x, cos, sin, cache=None, pos=None):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos : pos + T] = k
            vc[:, :, pos : pos + T] = v
            k, v = kc[:, :, : pos + T], vc[:, :, : pos + T]
        rep = self.H // self.KV
        if rep > 1:  # grouped KV heads: query head h reads kv head h // rep
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
        S = k.shape[2]
        off = S - T
        mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=off)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C, hd = c["dModel"], c["dModel"] // c["nHeads"]
        self.embed_tokens = nn.Embedding(c["vocabSize"], C)
        self.layers = nn.ModuleList([Block(c) for _ in range(c["nLayers"])])
        self.norm = RMSNorm(C, c["rmsNormEps"])
        self.lm_head = None if c["tieEmbeddings"] else nn.Linear(C, c["vocabSize"], bias=False)
        ang = torch.arange(c["maxSeq"], dtype=torch.float64)[:, None] * torch.pow(
            float(c["ropeTheta"]), -2 * torch.arange(hd // 2, dtype=torch.float64) / hd
        )
        self.register_buffer("cos", ang.cos().float(), persistent=False)
        self.register_buffer("sin", ang.sin().float(), persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx, caches=None, pos=0):
        T = idx.shape[1]
        x = self.embed_tokens(idx)
        cos, sin = self.cos[pos : pos + T], self.sin[pos : pos + T]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i], pos)
        x = self.norm(x)
        return x @ self.embed_tokens.weight.t() if self.lm_head is None else self.lm_head(x)


def full_config(c):
    d = {"nKvHeads": c.get("nKvHeads") or c["nHeads"], "ropeTheta": 10000.0, "rmsNormEps": 1e-5, "tieEmbeddings": True}
    d.update({k: v for k, v in c.items() if v is not None})
    return d


class TrainBench:
    """One model + AdamW + batch for a case, kept across rounds so each round times steps, not construction."""

    def __init__(self, c, o):
        torch.manual_seed(0)
        self.m = Llama(c)
        self.opt = torch.optim.AdamW(self.m.parameters(), lr=1e-4)
        self.B, self.T, self.V = o["batch"], o["seq"], c["vocabSize"]
        g = torch.Generator().manual_seed(1)
        tokens = torch.randint(0, self.V, (self.B, self.T + 1), generator=g)
        self.x, self.y = tokens[:, :-1], tokens[:, 1:]

    def step(self):
        logits = self.m(self.x)
        loss = F.cross_entropy(logits.reshape(-1, self.V), self.y.reshape(-1))
        self.opt.zero_grad(set_to_none=False)
        loss.backward()
        self.opt.step()


class SampleBench:
    """The engine sampler's work per call: prefill, then per token a tempered draw, untempered log-prob and entropy."""

    def __init__(self, c, o):
        torch.manual_seed(0)
        self.c, self.m = c, Llama(c)
        self.B, self.P, self.N = o["batch"], o["promptLen"], o["newTokens"]
        self.hd = c["dModel"] // c["nHeads"]
        self.g = torch.Generator().manual_seed(2)
        self.prompts = torch.randint(0, c["vocabSize"], (self.B, self.P), generator=self.g)

    @torch.no_grad()
    def step(self):
        c, B, P, N, m = self.c, self.B, self.P, self.N, self.m
        caches = [
            (torch.zeros(B, c["nKvHeads"], P + N, self.hd), torch.zeros(B, c["nKvHeads"], P + N, self.hd))
            for _ in range(c["nLayers"])
        ]
        logits = m(self.prompts, caches, 0)[:, -1]
        pos = P
        for i in range(N):
            logp = logits.log_softmax(-1)
            nxt = torch.multinomial((logits / 1.0).softmax(-1), 1, generator=self.g)
            _lp = logp.gather(1, nxt)
            _ent = -(logp.exp() * logp).sum(-1)
            if i == N - 1:
                break
            logits = m(nxt, caches, pos)[:, -1]
            pos += 1


def timed(bench, warmup, reps):
    """Wall and CPU (process) seconds of each of `reps` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        bench.step()
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        bench.step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def bench_train(c, o):
    wall, _ = timed(TrainBench(c, o), 2, o["steps"])
    return o["batch"] * o["seq"] / min(wall)


def bench_sample(c, o):
    wall, _ = timed(SampleBench(c, o), 1, o["reps"])
    return o["batch"] * o["newTokens"] / min(wall)


def serve():
    """Line protocol for interleaved rounds: each stdin line {"threads", "case", "what": "train"|"sample", "warmup",
    "reps"} gets one stdout line {"params", "wall": [s...], "cpu": [s...]}. Benches are cached per case and kind."""
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(req["threads"])
        case, what = req["case"], req["what"]
        key = (case["name"], what)
        if key not in cache:
            c = full_config(case["config"])
            cache[key] = (TrainBench if what == "train" else SampleBench)(c, case[what])
        b = cache[key]
        wall, cpu = timed(b, req["warmup"], req["reps"])
        params = sum(p.numel() for p in b.m.parameters())
        print(json.dumps({"torch": torch.__version__, "params": params, "wall": wall, "cpu": cpu}), flush=True)


def bench_gemm(M, N, K, ta, tb, clock=time.perf_counter):
    A = torch.randn(K, M) if ta else torch.randn(M, K)
    Bm = torch.randn(N, K) if tb else torch.randn(K, N)
    a = A.t() if ta else A
    b = Bm.t() if tb else Bm
    out = torch.empty(M, N)
    torch.mm(a, b, out=out)
    reps = max(1, int(1e8 / (2 * M * N * K)))
    best = 0
    for _ in range(7):
        t0 = clock()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        best = max(best, 2 * M * N * K * reps / (clock() - t0) / 1e9)
    return best


def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8 : 8 + n])
    out = {}
    for name, e in h.items():
        if name == "__metadata__":
            continue
        s, t = e["data_offsets"]
        assert e["dtype"] == "F32", e["dtype"]
        out[name] = torch.frombuffer(bytearray(b[8 + n + s : 8 + n + t]), dtype=torch.float32).reshape(e["shape"])
    return out


def logits_of_checkpoint(d, tokens):
    with open(d + "/config.json") as f:
        hf = json.load(f)
    c = full_config(
        {
            "vocabSize": hf["vocab_size"],
            "dModel": hf["hidden_size"],
            "nLayers": hf["num_hidden_layers"],
            "nHeads": hf["num_attention_heads"],
            "nKvHeads": hf["num_key_value_heads"],
            "dFf": hf["intermediate_size"],
            "maxSeq": hf["max_position_embeddings"],
            "ropeTheta": hf["rope_theta"],
            "rmsNormEps": hf["rms_norm_eps"],
            "tieEmbeddings": hf["tie_word_embeddings"],
        }
    )
    m = Llama(c)
    w = read_safetensors(d + "/model.safetensors")
    state = {}
    for k, v in w.items():
        if k.startswith("model.layers."):
            parts = k.split(".")  # model.layers.N.(self_attn|mlp).X.weight or model.layers.N.X.weight
            state["layers." + parts[2] + "." + parts[-2] + ".weight"] = v
        elif k.startswith("model."):
            state[k[len("model.") :]] = v
        elif k == "lm_head.weight":
            state[k] = v
    m.load_state_dict(state, strict=True)
    with torch.no_grad():
        return m(torch.tensor(tokens, dtype=torch.long)).tolist()


def main():
    if sys.argv[1] == "--serve":
        serve()
        return
    if sys.argv[1] == "--logits":
        torch.set_num_threads(1)
        args = sys.argv[2:]  # DIR TOKENS [DIR TOKENS ...]: one torch import for several checkpoints
        print(json.dumps([logits_of_checkpoint(args[i], json.loads(args[i + 1])) for i in range(0, len(args), 2)]))
        return
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get("threads", 2))
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "gemm": [], "cases": []}
    for M, N, K, ta, tb in spec.get("gemm", []):
        # CPU time at 1 thread (as the engine bench), so waiting for a core on a loaded machine is not counted
        clock = time.process_time if spec.get("threads", 2) == 1 else time.perf_counter
        res["gemm"].append(bench_gemm(M, N, K, ta, tb, clock))
    for case in spec.get("cases", []):
        c = full_config(case["config"])
        r = {"name": case["name"], "params": sum(p.numel() for p in Llama(c).parameters())}
        if "train" in case:
            r["trainTokensPerS"] = bench_train(c, case["train"])
        if "sample" in case:
            r["sampleTokensPerS"] = bench_sample(c, case["sample"])
        res["cases"].append(r)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
