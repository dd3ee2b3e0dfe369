"""Token ids transformers gives exported TRL rows through a model directory's chat template (as TRL renders them).

usage: python chat_ids.py MODEL_DIR < rows.jsonl  (each {"prompt": [...], "completion": [...]?})
stdout: one JSON line per row: {"prompt": ids with the generation prompt, "full": ids of prompt + completion or null}
"""
import json
import sys

from transformers import AutoTokenizer


def ids(tok, messages, gen):
    out = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=gen, return_dict=True)
    return list(out["input_ids"])


def main(model_dir):
    tok = AutoTokenizer.from_pretrained(model_dir)
    for line in sys.stdin:
        if not line.strip():
            continue
        row = json.loads(line)
        full = ids(tok, row["prompt"] + row["completion"], False) if row.get("completion") else None
        print(json.dumps({"prompt": ids(tok, row["prompt"], True), "full": full}))


if __name__ == "__main__":
    main(sys.argv[1])
