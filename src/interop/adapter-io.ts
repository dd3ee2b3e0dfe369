/**
 * Bringing one trained adapter into a run directory: the one place `mst import` touches adapter files, so the engine's
 * PEFT import/export can replace it later. With the base model it goes through the engine (loadCheckpoint + loadLora
 * checks every tensor name and shape, saveLora writes it exactly as the kit's eval reads it); without one the PEFT
 * files are checked (config keys, safetensors present) and copied.
 */
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { checkLoraFiles, loadCheckpoint, loadLora, saveLora } from "../engine/checkpoint.js";

/** Thrown when a directory is not a usable PEFT LoRA adapter; names the file. */
export class AdapterImportError extends Error {
  override name = "AdapterImportError";
}

const PeftConfigSchema = z.looseObject({
  r: z.int().positive(),
  lora_alpha: z.number().positive(),
  target_modules: z.union([z.array(z.string()).min(1), z.string().min(1)]),
});

/** Reads a PEFT adapter_config.json; throws AdapterImportError naming the file and key. */
export function readPeftConfig(dir: string): z.infer<typeof PeftConfigSchema> {
  const file = join(dir, "adapter_config.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new AdapterImportError(`${file}: ${existsSync(file) ? "not JSON" : "missing"} (${(e as Error).message})`);
  }
  const p = PeftConfigSchema.safeParse(raw);
  if (!p.success)
    throw new AdapterImportError(`${file}: ${p.error.issues[0]?.path.join(".")}: ${p.error.issues[0]?.message}`);
  if (!existsSync(join(dir, "adapter_model.safetensors")))
    throw new AdapterImportError(
      `${join(dir, "adapter_model.safetensors")}: missing (only safetensors adapters are read)`,
    );
  return p.data;
}

/** Copies the adapter in `src` to `dst` in the layout the kit's eval loads (`loadRuntime(..., adapterDir)`). */
export async function bringAdapter(
  src: string,
  dst: string,
  baseModelDir: string | null,
): Promise<"verified" | "copied"> {
  readPeftConfig(src);
  if (baseModelDir === null) {
    // no base to load it onto: still refuse what the eval would refuse later (unapplied features, stray or NaN tensors)
    try {
      await checkLoraFiles(src);
    } catch (e) {
      throw new AdapterImportError(`${src}: ${(e as Error).message}`);
    }
    cpSync(src, dst, { recursive: true, filter: (p) => !p.includes("optimizer") });
    return "copied";
  }
  const { model } = await loadCheckpoint(baseModelDir);
  try {
    await loadLora(src, model, { baseDir: baseModelDir });
  } catch (e) {
    throw new AdapterImportError(`${src}: does not fit the base ${baseModelDir}: ${(e as Error).message}`);
  }
  // the base it was verified on, so peft's AutoPeftModelForCausalLM (and mst's eval) find it
  await saveLora(dst, model, { baseModel: resolve(baseModelDir) });
  return "verified";
}
