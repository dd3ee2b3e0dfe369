/**
 * Whether an adapter's base_model_name_or_path names the model it is being loaded onto. A LoRA adapter loaded onto
 * another base of the same shapes (another seed, a merged fine-tune) loads without a word and computes nonsense, so
 * the name is checked: a local directory must hold the same weights (a fingerprint of the headers, the small tensors
 * and the start of every large one), and a name that is not here (a hub id, a path on the machine that trained) must
 * end like the base's path (".../Qwen2.5-0.5B-Instruct", ".../jobs/base-main-0/model").
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, resolve, sep } from "node:path";
import { CheckpointError } from "../checkpoint-error.js";
import { SafetensorsShards } from "./safetensors-shards.js";

/** Tensors up to this size are hashed whole (norms, biases); larger ones by their first bytes. */
const SMALL = 1 << 16;
const HEAD = 4096;

/** A cheap fingerprint of a model directory's weights: equal for copies, different for another seed or a fine-tune. */
export async function weightsFingerprint(dir: string): Promise<string> {
  const shards = await SafetensorsShards.open(dir);
  try {
    const h = createHash("sha256");
    const names = [...shards.tensors.keys()].sort();
    for (const n of names) {
      const t = shards.tensors.get(n)!;
      h.update(`${n}|${t.dtype}|${t.shape.join(",")}|`);
      const f = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
      if (t.bytes <= SMALL) {
        await shards.readF32(t, f);
        h.update(new Uint8Array(f.buffer));
      } else h.update(await shards.headBytes(t, HEAD));
    }
    return h.digest("hex");
  } finally {
    await shards.close();
  }
}

/** The last `k` components of a path or hub id. */
function tail(p: string, k: number): string {
  return p.replace(/\\/g, "/").replace(/\/+$/, "").split("/").slice(-k).join("/");
}

/**
 * Throws a CheckpointError naming `cfgFile`, the declared base and `baseDir` when the adapter was made for another
 * model. Null or empty declarations pass (nothing to compare; shapes are still checked tensor by tensor).
 */
export async function checkAdapterBase(
  declared: string | null | undefined,
  baseDir: string,
  cfgFile: string,
): Promise<void> {
  if (declared === null || declared === undefined || declared.trim() === "") return;
  const refuse = (why: string): never => {
    throw new CheckpointError(
      `${cfgFile}: key "base_model_name_or_path": the adapter was made for ${JSON.stringify(declared)}, not for the ` +
        `base ${baseDir} (${why}); load it onto its own base`,
    );
  };
  const here = resolve(declared);
  if (existsSync(here) && statSync(here).isDirectory()) {
    if (realpathSync(here) === realpathSync(baseDir)) return;
    if (!existsSync(resolve(here, "config.json"))) refuse(`${here} is not a model directory`);
    let a: string;
    let b: string;
    try {
      [a, b] = [await weightsFingerprint(here), await weightsFingerprint(baseDir)];
    } catch (e) {
      return refuse(`its weights cannot be compared: ${(e as Error).message}`);
    }
    if (a !== b) refuse(`${here} holds other weights`);
    return;
  }
  // not on this machine: an mst base job's model is named by its job (jobs/<id>/model), any other by its folder
  const base = resolve(baseDir);
  const k = basename(base) === "model" && base.split(sep).at(-3) === "jobs" ? 3 : 1;
  if (tail(declared, k) !== tail(base, k))
    refuse(`"${tail(declared, k)}" is not "${tail(base, k)}", and ${JSON.stringify(declared)} is not here to compare`);
}
