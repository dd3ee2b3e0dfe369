"""The real Hugging Face side of the engine's border tests: builds tiny random checkpoints with transformers'
save_pretrained, computes their logits and greedy generations, makes and merges PEFT adapters, and tokenizes with
AutoTokenizer. Reads one JSON job {"ops": [...]} on stdin (so one interpreter start serves a whole test file) and
prints one JSON list of results, one per op, on stdout. Everything runs offline, on CPU, in float32.
"""

import json
import os
import shutil
import sys

import torch

torch.set_num_threads(1)


def reinit(model, seed):
    """Weights large enough that logits differ clearly between tokens (the default init std 0.02 gives near-ties)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=g))


def build(op):
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    common = dict(
        vocab_size=op["vocab"],
        hidden_size=32,
        intermediate_size=40,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=op.get("kv_heads", 2),
        tie_word_embeddings=op["tied"],
        max_position_embeddings=op.get("max_pos", 128),
        bos_token_id=op.get("bos"),
        eos_token_id=op.get("eos"),
        pad_token_id=op.get("pad"),
    )
    if op["arch"] == "llama":
        rope = op.get("rope")
        cfg = LlamaConfig(rms_norm_eps=1e-5, rope_theta=op.get("rope_theta", 10000.0), rope_scaling=rope, **common)
        cls = LlamaForCausalLM
    else:
        cfg = Qwen2Config(rms_norm_eps=1e-6, rope_theta=op.get("rope_theta", 1000000.0), **common)
        cls = Qwen2ForCausalLM
    torch.manual_seed(op["seed"])
    model = cls(cfg)
    reinit(model, op["seed"])
    if op["tied"]:
        model.tie_weights()
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[op["dtype"]]
    model = model.to(dtype)
    kw = {"max_shard_size": op["shard"]} if op.get("shard") else {}
    model.save_pretrained(op["out"], **kw)
    for f in op.get("copy", []):
        shutil.copy(f, op["out"])
    return {"files": sorted(os.listdir(op["out"]))}


def load(path, adapter=None, auto_peft=False):
    """The model in float32 (a BF16 checkpoint upcast exactly, as mst reads it), optionally with a PEFT adapter."""
    from transformers import AutoModelForCausalLM

    if auto_peft:
        from peft import AutoPeftModelForCausalLM

        m = AutoPeftModelForCausalLM.from_pretrained(adapter, dtype=torch.float32)
    else:
        m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        if adapter is not None:
            from peft import PeftModel

            m = PeftModel.from_pretrained(m, adapter)
    m.eval()
    return m


def logits_of(m, tokens):
    with torch.no_grad():
        return m(input_ids=torch.tensor(tokens, dtype=torch.long)).logits.float().tolist()


def logits(op):
    m = load(op.get("model"), op.get("adapter"), op.get("auto_peft", False))
    return {"logits": logits_of(m, op["tokens"])}


def generate(op):
    m = load(op["model"], op.get("adapter"))
    ids = torch.tensor([op["ids"]], dtype=torch.long)
    with torch.no_grad():
        out = m.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=op["max_new"],
            output_scores=True,
            return_dict_in_generate=True,
        )
    new = out.sequences[0, ids.shape[1] :].tolist()
    # the gap between the best and second-best logit at each step: a near-tie would make the comparison luck
    margins = [float(torch.topk(s[0], 2).values.diff().abs()) for s in out.scores]
    return {"ids": new, "min_margin": min(margins)}


def peft_make(op):
    """A LoRA adapter made by peft on all seven projections, trained one AdamW step so that every B is non-zero."""
    from peft import LoraConfig, get_peft_model

    m = load(op["model"])
    torch.manual_seed(op["seed"])
    cfg = LoraConfig(
        r=op["r"],
        lora_alpha=op["alpha"],
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        task_type="CAUSAL_LM",
        **op.get("extra", {}),
    )
    pm = get_peft_model(m, cfg)
    pm.train()
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=op.get("lr", 0.05))
    x = torch.tensor(op["tokens"], dtype=torch.long)
    pm(input_ids=x, labels=x).loss.backward()
    opt.step()
    pm.eval()
    zero_b = [n for n, p in pm.named_parameters() if "lora_B" in n and float(p.abs().max()) == 0.0]
    pm.save_pretrained(op["out"])
    return {"zero_b": zero_b, "logits": logits_of(pm, op["tokens"])}


def peft_merge(op):
    """merge_and_unload() of base + adapter, saved with save_pretrained; its logits."""
    m = load(op["model"], op["adapter"]).merge_and_unload()
    if op.get("out"):
        m.save_pretrained(op["out"])
    return {"logits": logits_of(m, op["tokens"])}


def tokenize(op):
    """AutoTokenizer from a local directory: ids of texts, chat templates rendered and tokenized, eos ids."""
    from transformers import AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(op["dir"])
    out = {
        "encode": [tok.encode(t) for t in op["texts"]],
        "encode_plain": [tok.encode(t, add_special_tokens=False) for t in op["texts"]],
        "decode": [tok.decode(ids, skip_special_tokens=True) for ids in op.get("decode", [])],
        "chat_text": [tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in op["chats"]],
        "chat_ids": [
            list(tok.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
            for c in op["chats"]
        ],
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
        "bos_token_id": tok.bos_token_id,
    }
    if os.path.exists(os.path.join(op["dir"], "generation_config.json")):
        g = GenerationConfig.from_pretrained(op["dir"]).eos_token_id
        out["generation_eos"] = g if isinstance(g, list) or g is None else [g]
    return out


OPS = {
    "build": build,
    "logits": logits,
    "generate": generate,
    "peft_make": peft_make,
    "peft_merge": peft_merge,
    "tokenize": tokenize,
}

if __name__ == "__main__":
    job = json.load(sys.stdin)
    results = [OPS[op["op"]](op) for op in job["ops"]]
    json.dump(results, sys.stdout)
