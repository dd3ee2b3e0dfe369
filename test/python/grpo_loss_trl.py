"""TRL 1.13's own GRPO loss and its gradient on given tensors: GRPOTrainer._compute_loss and
_get_per_token_logps_and_entropies run unchanged on a stand-in trainer (the attributes they read) and a stand-in model
that returns the given logits. Reads cases as JSON on stdin, prints [{loss, grad}] (grad: dLoss/dlogits per
completion token, in (completion, token) order).

A case: {V, temperature, loss_type, epsilon, epsilon_high, beta, entropy_coef, max_completion_length,
gradient_accumulation_steps, steps_per_generation, num_items_in_batch,
completions: [{ids, logits (L x V), old, ref, adv}]}
"""
import json
import sys
import warnings
from collections import defaultdict
from types import SimpleNamespace

warnings.filterwarnings("ignore")
import torch  # noqa: E402
from trl import GRPOTrainer  # noqa: E402


class Accelerator:
    num_processes = 1
    sync_gradients = True
    is_main_process = True

    def gather(self, x):
        return x

    def gather_for_metrics(self, x):
        return x

    def reduce(self, x, reduction="sum"):
        return x


def run(case):
    comps = case["completions"]
    B, V = len(comps), case["V"]
    C = max(len(c["ids"]) for c in comps)
    # one prompt token, then the completion (right-padded): logits row t predicts completion token t
    logits = torch.zeros(B, 1 + C, V, dtype=torch.float64)
    ids = torch.zeros(B, 1 + C, dtype=torch.long)
    mask = torch.zeros(B, C, dtype=torch.long)
    old = torch.zeros(B, C, dtype=torch.float64)
    ref = torch.zeros(B, C, dtype=torch.float64)
    for b, c in enumerate(comps):
        L = len(c["ids"])
        logits[b, :L] = torch.tensor(c["logits"], dtype=torch.float64).view(L, V)
        ids[b, 1 : 1 + L] = torch.tensor(c["ids"])
        mask[b, :L] = 1
        old[b, :L] = torch.tensor(c["old"], dtype=torch.float64)
        ref[b, :L] = torch.tensor(c["ref"], dtype=torch.float64)
    logits.requires_grad_(True)
    model = lambda **kw: SimpleNamespace(logits=logits)  # noqa: E731
    me = SimpleNamespace(
        model=SimpleNamespace(training=True),
        state=SimpleNamespace(global_step=0),  # read by TRL's profiling decorator
        model_kwarg_keys=set(),
        temperature=case["temperature"],
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        importance_sampling_level="token",
        beta=case["beta"],
        loss_type=case["loss_type"],
        epsilon_low=case["epsilon"],
        epsilon_high=case["epsilon_high"],
        use_vllm=False,
        vllm_importance_sampling_correction=False,
        current_gradient_accumulation_steps=case["gradient_accumulation_steps"],
        max_completion_length=case["max_completion_length"],
        accelerator=Accelerator(),
        _entropy_bonus_enabled=case["entropy_coef"] != 0.0,
        entropy_coef=case["entropy_coef"],
        use_adaptive_entropy=False,
        aux_loss_enabled=False,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        args=SimpleNamespace(
            use_bias_correction_kl=False,
            delta=None,
            steps_per_generation=case["steps_per_generation"],
            report_to=[],
        ),
    )
    me._get_per_token_logps_and_entropies = GRPOTrainer._get_per_token_logps_and_entropies.__get__(me)
    inputs = {
        "prompt_ids": ids[:, :1],
        "prompt_mask": torch.ones(B, 1, dtype=torch.long),
        "completion_ids": ids[:, 1:],
        "completion_mask": mask,
        "advantages": torch.tensor([c["adv"] for c in comps], dtype=torch.float64),
        "old_per_token_logps": old,
        "num_items_in_batch": torch.tensor(float(case["num_items_in_batch"]), dtype=torch.float64),
    }
    if case["beta"] != 0.0:
        inputs["ref_per_token_logps"] = ref
    loss = GRPOTrainer._compute_loss(me, model, inputs)
    loss.backward()
    grad = [logits.grad[b, t].tolist() for b, c in enumerate(comps) for t in range(len(c["ids"]))]
    return {"loss": loss.item(), "grad": grad}


print(json.dumps([run(c) for c in json.load(sys.stdin)]))
