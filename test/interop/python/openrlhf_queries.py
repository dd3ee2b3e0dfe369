"""Builds remote-reward requests exactly as OpenRLHF 3c3be623 does (PromptDataset + SingleTurnAgentExecutor), with a
real tokenizer: prompt = apply_chat_template(messages, tokenize=False, add_generation_prompt=True); the prompt's ids
are tokenizer(prompt, add_special_tokens=False), cut to the last `keep` ids when the prompt is too long; the
response's ids end with the end-of-turn token; query = decode(prompt_ids + response_ids, skip_special_tokens=False).

stdin: [{"tokenizer": dir, "end_of_turn": "<|im_end|>", "items": [{"messages": [...], "response": "...", "keep": n|null}]}]
stdout: per tokenizer, [{"query": ..., "prompt": ...}] in order
"""
import json
import sys

from transformers import AutoTokenizer



def build(req):
    tok = AutoTokenizer.from_pretrained(req["tokenizer"])
    eot = tok.convert_tokens_to_ids(req["end_of_turn"])
    out = []
    for item in req["items"]:
        prompt = tok.apply_chat_template(item["messages"], tokenize=False, add_generation_prompt=True)
        ids = tok(text=prompt, add_special_tokens=False)["input_ids"]
        if item.get("keep"):
            ids = ids[-item["keep"]:]
        action = tok(text=item["response"], add_special_tokens=False)["input_ids"] + [eot]
        out.append({"query": tok.decode(ids + action, skip_special_tokens=False), "prompt": prompt})
    return out


print(json.dumps([build(r) for r in json.load(sys.stdin)]))
