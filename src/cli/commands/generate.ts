/** `mst generate --model DIR [--adapter DIR] [--prompt TEXT | --messages FILE]`: a quick look at a checkpoint's replies, streamed. */
import { InvalidArgumentError, type Command } from "commander";
import { readFile } from "node:fs/promises";
import { z } from "zod";

const MessagesSchema = z
  .array(z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() }))
  .min(1);

interface GenerateCliOptions {
  model: string;
  adapter?: string;
  prompt?: string;
  messages?: string;
  system?: string;
  raw?: boolean;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed: number;
  storage: "f32" | "bf16" | "nf4";
}

/** Bad input to generate (a --messages file, a model without a chat template, a prompt too long); names what. */
class GenerateInputError extends Error {
  override name = "GenerateInputError";
}

// Flag values are checked as commander parses them, before the model loads (a bad --temperature used to be found
// only after a multi-second load), and each names its flag (a negative --max-tokens read as a prompt-length problem).
const positiveInt = (v: string): number => {
  if (!/^[1-9]\d*$/.test(v.trim())) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return Number(v);
};
const nonNegativeInt = (v: string): number => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`expected a non-negative integer, got "${v}"`);
  return Number(v);
};
const finite = (v: string): number => {
  const n = v.trim() === "" ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};
const temperatureArg = (v: string): number => {
  const n = finite(v);
  if (n < 0) throw new InvalidArgumentError(`expected 0 (greedy) or more, got "${v}"`);
  return n;
};
const topPArg = (v: string): number => {
  const n = finite(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a probability mass in (0, 1], got "${v}"`);
  return n;
};
const storageArg = (v: string): "f32" | "bf16" | "nf4" => {
  if (v !== "f32" && v !== "bf16" && v !== "nf4")
    throw new InvalidArgumentError(`expected f32, bf16 or nf4, got "${v}"`);
  return v;
};

/** Reads a --messages file; a missing file, bad JSON or a bad turn is bad input naming the file and the field. */
async function readMessages(file: string): Promise<z.infer<typeof MessagesSchema>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new GenerateInputError(
      `${file}: ${code === "ENOENT" ? "not found" : code === "EISDIR" ? "is a folder" : (e as Error).message}`,
    );
  }
  const r = MessagesSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new GenerateInputError(`${file}: ${i?.path.join(".") || "(top level)"}: ${i?.message}`);
  }
  return r.data;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("sample a reply from a Hugging Face model directory (Llama, Qwen2), optionally with a PEFT adapter")
    .requiredOption("--model <dir>", "model directory (config.json, safetensors, tokenizer.json)")
    .option("--adapter <dir>", "PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors)")
    .option("--prompt <text>", "user message (rendered with the chat template; plain text with --raw)")
    .option("--messages <file>", 'JSON file: [{"role": "system"|"user"|"assistant", "content": "..."}, ...]')
    .option("--system <text>", "system message put before --prompt")
    .option("--raw", "encode --prompt as plain text, without the chat template")
    .option("--max-tokens <n>", "most new tokens", positiveInt, 256)
    .option(
      "--temperature <t>",
      "sampling temperature, 0 = greedy (default: generation_config.json's, else 1)",
      temperatureArg,
    )
    .option("--top-p <p>", "nucleus sampling mass (default: generation_config.json's)", topPArg)
    .option("--top-k <k>", "keep the k most likely tokens (default: generation_config.json's)", positiveInt)
    .option("--seed <n>", "sampling seed", nonNegativeInt, 0)
    .option("--storage <kind>", "how the weights are held: f32, bf16 or nf4", storageArg, "bf16" as const)
    .action(async (o: GenerateCliOptions) => {
      if ((o.prompt === undefined) === (o.messages === undefined))
        throw new InvalidArgumentError("give exactly one of --prompt and --messages");
      if (o.raw === true && o.prompt === undefined)
        throw new InvalidArgumentError("--raw goes with --prompt (--messages are always rendered with the template)");
      const { loadModelDir } = await import("../../engine/hf/model-dir.js");
      const { loadLora } = await import("../../engine/checkpoint.js");
      const { renderChat, tokenizerRenderOptions } = await import("../../engine/chat-template.js");
      const { sample } = await import("../../engine/sampler.js");
      const t0 = Date.now();
      // read --messages before the model: a bad file is reported at once, not after the load
      const fileMessages = o.messages !== undefined ? await readMessages(o.messages) : undefined;
      const md = await loadModelDir(o.model, { storage: o.storage });
      if (o.adapter !== undefined) await loadLora(o.adapter, md.model, { baseDir: o.model });
      const tok = md.tokenizer;
      let ids: number[];
      if (o.raw === true && o.prompt !== undefined) ids = tok.encode(o.prompt, { addSpecialTokens: true });
      else {
        const messages: z.infer<typeof MessagesSchema> = fileMessages ?? [
          ...(o.system !== undefined ? [{ role: "system" as const, content: o.system }] : []),
          { role: "user" as const, content: o.prompt as string },
        ];
        if (md.chatTemplate === undefined)
          throw new GenerateInputError(
            `${o.model}: the model has no chat template (a base model?): use --prompt with --raw`,
          );
        ids = tok.encode(renderChat(messages, md.chatTemplate, tokenizerRenderOptions(tok)));
      }
      const g = md.generation;
      const temperature = o.temperature ?? (g.doSample === false ? 0 : (g.temperature ?? 1));
      const maxNew = Math.min(o.maxTokens, md.model.config.maxSeq - ids.length + 1);
      if (maxNew < 1)
        throw new GenerateInputError(
          `the prompt has ${ids.length} tokens and ${o.model} takes at most ${md.model.config.maxSeq} positions: ` +
            "no room for a reply (shorten the prompt)",
        );
      process.stderr.write(
        `mst: ${md.modelType} ${o.model} (${o.storage}) loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s; prompt ${ids.length} tokens\n`,
      );
      const out: number[] = [];
      let printed = "";
      const stop = new Set(md.stopIds);
      const t1 = Date.now();
      const r = sample(md.model, [ids], {
        maxNewTokens: maxNew,
        temperature,
        topP: o.topP ?? g.topP,
        topK: o.topK ?? g.topK,
        seed: o.seed,
        stopIds: md.stopIds,
        onToken: (_b, id) => {
          if (stop.has(id)) return;
          out.push(id);
          // decode the whole reply and print what is new: a character may span several tokens
          const text = tok.decode(out, { skipSpecialTokens: true });
          if (text.startsWith(printed) && !text.endsWith("\uFFFD")) {
            process.stdout.write(text.slice(printed.length));
            printed = text;
          }
        },
      });
      const rest = tok.decode(out, { skipSpecialTokens: true });
      if (rest.startsWith(printed)) process.stdout.write(rest.slice(printed.length));
      process.stdout.write("\n");
      const n = r.tokens[0].length;
      const s = (Date.now() - t1) / 1000;
      process.stderr.write(`mst: ${n} tokens in ${s.toFixed(1)} s (${(n / s).toFixed(1)} tokens/s), ${r.finish[0]}\n`);
    });
}
