"""Reads mst exports back with the real libraries (pyarrow, datasets) and runs the generated reward glue on them.

usage: read_exports.py verl <export dir> <job id>[,<job id>...]  -> per job: schema, rows, compute_score results (JSON)
       read_exports.py trl <export dir> <job id>[,...]            -> per job: mst_reward results as TRL calls it
"""
import importlib.util
import json
import os
import sys

RESPONSES = ["correct", "Incorrect.", " correct<|im_end|>", "hmm"]


def glue(export_dir):
    spec = importlib.util.spec_from_file_location("mst_reward", os.path.join(export_dir, "mst_reward.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def verl(export_dir, job):
    import datasets
    import pyarrow.parquet as pq

    path = os.path.join(export_dir, "jobs", job, "train.parquet")
    table = pq.read_table(path)
    ds = datasets.load_dataset("parquet", data_files=path, split="train")
    mod = glue(export_dir)
    scores = []
    for row in ds:
        gt = row["reward_model"]["ground_truth"]
        scores.append([mod.compute_score(row["data_source"], r, gt, row["extra_info"]) for r in RESPONSES])
    return {
        "arrow_schema": {f.name: str(f.type) for f in table.schema},
        "rows": table.num_rows,
        "features": {k: str(v) for k, v in ds.features.items()},
        "first_prompt": ds[0]["prompt"],
        "extra_info_index": [r["extra_info"]["index"] for r in ds],
        "ground_truth": [r["reward_model"]["ground_truth"] for r in ds],
        "scores": scores,
    }


def trl(export_dir, job):
    import datasets

    path = os.path.join(export_dir, "jobs", job, "train.jsonl")
    ds = datasets.load_dataset("json", data_files=path, split="train")
    mod = glue(export_dir)
    # GRPOTrainer hands each extra column to the reward function as a plain list, one entry per completion
    prompts, labels, ids = list(ds["prompt"]), list(ds["mst_label"]), list(ds["mst_id"])
    out = []
    for r in RESPONSES:
        completions = [[{"role": "assistant", "content": r}] for _ in prompts]
        out.append(mod.mst_reward(prompts=prompts, completions=completions, mst_label=labels, mst_id=ids))
    return {"labels": labels, "scores": [list(x) for x in zip(*out)]}


if __name__ == "__main__":
    kind, export_dir, jobs = sys.argv[1:4]
    run = {"verl": verl, "trl": trl}[kind]
    print(json.dumps({job: run(export_dir, job) for job in jobs.split(",")}))
