/**
 * Every key the TRL export writes, built into the real classes: TRL 1.13's SFTConfig and GRPOConfig, PEFT's
 * LoraConfig and transformers' BitsAndBytesConfig (`train_trl.py --check` names any key that is unknown or did not land
 * as written), for every task kind and storage: f32 embedded bases, bf16 and nf4 checkpoints (the seed's QLoRA: 4-bit
 * NF4 with double quantisation; bitsandbytes itself is not installable here, so the 4-bit config is checked against
 * transformers' class only), SFT and GRPO, and the warm-up converted from PPO steps to optimizer steps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSpec } from "../../src/interop/export.js";
import { runPython, skipUnlessPython } from "../python-env.js";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";
import { PB_QUICK, SYC_MICRO, specFile, tempDir } from "./helpers.js";
import { CUSTOM_HEAD, CUSTOM_TAIL } from "./trl-round-trip.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/specs/", import.meta.url));
const skip = skipUnlessPython("trl", "peft", "transformers");

interface TrlJob {
  trainer: string;
  args: Record<string, unknown>;
  lora: Record<string, unknown> | null;
  quantization: Record<string, unknown> | null;
}

test(
  "every exported TRL key lands in TRL's, PEFT's and transformers' own config classes",
  { skip, timeout: 280_000 },
  async () => {
    const dir = tempDir("trl-config");
    const ckpt = join(dir, "ckpt");
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, "config.json"), "{}");
    const custom = (trainer: string, model = MONITOR_YAML) =>
      writeExperiment(`${CUSTOM_HEAD}${model}  trainer:\n${trainer}${CUSTOM_TAIL}`).spec;
    const noModel = MONITOR_YAML.slice(0, MONITOR_YAML.indexOf("  model:"));
    const specs: Record<string, string> = {
      "syc-micro": specFile(dir, "syc.yaml", SYC_MICRO),
      "syc-nf4": join(EXAMPLES, "sycophancy-checkpoint.yaml"),
      "pb-quick": specFile(dir, "pb.yaml", PB_QUICK),
      "pb-nf4": join(EXAMPLES, "political-bias-paper.yaml"),
      "custom-sft-bf16": custom(
        "    kind: sft\n    sft: { maxSteps: 2, warmupSteps: 1, minLr: 0.0001, groupByLength: true, lora: { rank: 2, alpha: 4 } }\n",
        `${noModel}  model: { kind: checkpoint, path: ${JSON.stringify(ckpt)}, storage: bf16, gradientCheckpointing: true }\n`,
      ),
      "custom-rl": custom(
        "    kind: rl\n    ppo: { steps: 4, batchSize: 16, miniBatchSize: 8, ppoEpochs: 2, lrSchedule: cosine, warmupSteps: 1, lora: { rank: 2, alpha: 4 } }\n" +
          "    reward: { kind: exact-match, field: answer }\n",
      ),
    };
    const jobs: string[] = [];
    const cfg: Record<string, TrlJob> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const out = join(dir, name);
      await exportSpec({ spec, target: "trl", out });
      const ids = readdirSync(join(out, "jobs"));
      jobs.push(...ids.map((id) => join(out, "jobs", id)));
      cfg[name] = JSON.parse(readFileSync(join(out, "jobs", ids[0], "trl.json"), "utf8")) as TrlJob;
    }
    const lines = runPython(join(dir, "syc-micro", "train_trl.py"), [...jobs, "--check"])
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { job: string; mismatches: string[] });
    assert.equal(lines.length, jobs.length);
    for (const l of lines) assert.deepEqual(l.mismatches, [], l.job);

    // what the mapping must say, not only that the classes take it
    const double = { load_in_4bit: true, bnb_4bit_quant_type: "nf4", bnb_4bit_use_double_quant: true };
    for (const name of ["syc-nf4", "pb-nf4"])
      assert.deepEqual(
        { ...cfg[name].quantization, bnb_4bit_compute_dtype: undefined },
        { ...double, bnb_4bit_compute_dtype: undefined },
        name,
      );
    for (const name of ["syc-micro", "pb-quick", "custom-sft-bf16", "custom-rl"])
      assert.equal(cfg[name].quantization, null, name);
    for (const c of Object.values(cfg)) {
      assert.equal(c.args.bf16, false);
      assert.equal(c.args.optim, "adamw_torch");
      assert.ok(!("group_by_length" in c.args));
    }
    assert.deepEqual(cfg["custom-sft-bf16"].args.model_init_kwargs, { dtype: "bfloat16" });
    assert.equal(cfg["custom-sft-bf16"].args.train_sampling_strategy, "group_by_length");
    assert.equal(cfg["custom-sft-bf16"].args.gradient_checkpointing, true);
    assert.deepEqual(cfg["syc-micro"].args.model_init_kwargs, { dtype: "float32" });
    assert.equal(cfg["syc-micro"].args.gradient_checkpointing, false);
    assert.equal(cfg["pb-quick"].trainer, "sft");
    assert.equal(cfg["custom-rl"].trainer, "grpo");
    // one PPO step of warm-up = ppoEpochs x batch / (miniBatch x accumulation) = 2 x 16 / 8 optimizer steps
    assert.equal(cfg["custom-rl"].args.warmup_steps, 4);
    assert.equal(cfg["custom-rl"].args.max_steps, 16);
  },
);
