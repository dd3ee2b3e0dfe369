"""Builds TRL's own GRPOConfig from an exported trl.json's arguments and prints what TRL made of them (JSON).

usage: python trl_grpo_config.py path/to/trl.json OUTPUT_DIR
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
from trl import GRPOConfig  # noqa: E402

with open(sys.argv[1]) as f:
    cfg = json.load(f)
# use_cpu: the test machine has no GPU (TRL defaults to bf16, which otherwise asks for one); no mst key is touched
args = GRPOConfig(output_dir=sys.argv[2], use_cpu=True, **cfg["args"])
keys = sorted(set(cfg["args"]) | {"steps_per_generation", "generation_batch_size", "epsilon_high"})
out = {}
for k in keys:
    v = getattr(args, k)
    out[k] = v if isinstance(v, (int, float, str, bool, type(None))) else str(v)
print(json.dumps({"trl_version": __import__("trl").__version__, "config": out}))
