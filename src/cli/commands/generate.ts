/** `mst generate --model DIR [--adapter DIR] [--prompt TEXT | --messages FILE]`: a quick look at a checkpoint's replies, streamed. */
import type { Command } from "commander";
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
  maxTokens: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  seed: string;
  storage: string;
}

function num(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${flag}: not a number: ${JSON.stringify(v)}`);
  return n;
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
    .option("--max-tokens <n>", "most new tokens", "256")
    .option("--temperature <t>", "sampling temperature, 0 = greedy (default: generation_config.json's, else 1)")
    .option("--top-p <p>", "nucleus sampling mass (default: generation_config.json's)")
    .option("--top-k <k>", "keep the k most likely tokens (default: generation_config.json's)")
    .option("--seed <n>", "sampling seed", "0")
    .option("--storage <kind>", "how the weights are held: f32, bf16 or nf4", "bf16")
    .action(async (o: GenerateCliOptions) => {
      if ((o.prompt === undefined) === (o.messages === undefined))
        throw new Error("generate: give exactly one of --prompt and --messages");
      if (!["f32", "bf16", "nf4"].includes(o.storage))
        throw new Error(`--storage: ${JSON.stringify(o.storage)} is not one of f32, bf16, nf4`);
      const { loadModelDir } = await import("../../engine/hf/model-dir.js");
      const { loadLora } = await import("../../engine/checkpoint.js");
      const { renderChat, tokenizerRenderOptions } = await import("../../engine/chat-template.js");
      const { sample } = await import("../../engine/sampler.js");
      const t0 = Date.now();
      const md = await loadModelDir(o.model, { storage: o.storage as "f32" | "bf16" | "nf4" });
      if (o.adapter !== undefined) await loadLora(o.adapter, md.model, { baseDir: o.model });
      const tok = md.tokenizer;
      let ids: number[];
      if (o.raw === true && o.prompt !== undefined) ids = tok.encode(o.prompt, { addSpecialTokens: true });
      else {
        let messages: z.infer<typeof MessagesSchema>;
        if (o.messages !== undefined) {
          let raw: unknown;
          try {
            raw = JSON.parse(await readFile(o.messages, "utf8"));
          } catch (e) {
            throw new Error(`${o.messages}: ${(e as Error).message}`);
          }
          const r = MessagesSchema.safeParse(raw);
          if (!r.success) {
            const i = r.error.issues[0];
            throw new Error(`${o.messages}: ${i?.path.join(".") || "(top level)"}: ${i?.message}`);
          }
          messages = r.data;
        } else
          messages = [
            ...(o.system !== undefined ? [{ role: "system" as const, content: o.system }] : []),
            { role: "user" as const, content: o.prompt as string },
          ];
        if (md.chatTemplate === undefined)
          throw new Error(`${o.model}: the model has no chat template (a base model?): use --prompt with --raw`);
        ids = tok.encode(renderChat(messages, md.chatTemplate, tokenizerRenderOptions(tok)));
      }
      const g = md.generation;
      const temperature =
        o.temperature !== undefined
          ? num(o.temperature, "--temperature")
          : g.doSample === false
            ? 0
            : (g.temperature ?? 1);
      const maxNew = Math.min(num(o.maxTokens, "--max-tokens"), md.model.config.maxSeq - ids.length + 1);
      if (maxNew < 1) throw new Error(`the prompt has ${ids.length} tokens, maxSeq is ${md.model.config.maxSeq}`);
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
        topP: o.topP !== undefined ? num(o.topP, "--top-p") : g.topP,
        topK: o.topK !== undefined ? num(o.topK, "--top-k") : g.topK,
        seed: num(o.seed, "--seed"),
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
