/** generation_config.json: the ids that end a reply (a number or a list) and the model's sampling defaults. */

import { z } from "zod";
import { CheckpointError } from "../checkpoint-error.js";
import { idList } from "./hf-config.js";

const Ids = z.union([z.number().int(), z.array(z.number().int())]).nullish();
const GenerationConfigSchema = z.looseObject({
  bos_token_id: Ids,
  eos_token_id: Ids,
  pad_token_id: Ids,
  do_sample: z.boolean().nullish(),
  temperature: z.number().nonnegative().nullish(),
  top_p: z.number().positive().max(1).nullish(),
  top_k: z.number().int().nonnegative().nullish(),
  max_new_tokens: z.number().int().positive().nullish(),
  repetition_penalty: z.number().positive().nullish(),
});

/** What the engine uses of generation_config.json (absent fields stay undefined; eosIds may be empty). */
export interface GenerationConfig {
  /** Every id that ends a reply (Llama-3 lists several, e.g. <|end_of_text|>, <|eom_id|>, <|eot_id|>). */
  eosIds: number[];
  /** False means greedy decoding is the model's default. */
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxNewTokens?: number;
  /** Read for information: the engine's sampler has no repetition penalty. */
  repetitionPenalty?: number;
}

/** Parse a generation_config.json object; errors name the file and key. */
export function parseGenerationConfig(raw: unknown, file: string): GenerationConfig {
  const r = GenerationConfigSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CheckpointError(`${file}: key "${i?.path.join(".")}": ${i?.message}`);
  }
  const g = r.data;
  const out: GenerationConfig = { eosIds: idList(g.eos_token_id) };
  if (g.do_sample !== null && g.do_sample !== undefined) out.doSample = g.do_sample;
  if (g.temperature !== null && g.temperature !== undefined) out.temperature = g.temperature;
  if (g.top_p !== null && g.top_p !== undefined) out.topP = g.top_p;
  if (g.top_k !== null && g.top_k !== undefined) out.topK = g.top_k;
  if (g.max_new_tokens !== null && g.max_new_tokens !== undefined) out.maxNewTokens = g.max_new_tokens;
  if (g.repetition_penalty !== null && g.repetition_penalty !== undefined) out.repetitionPenalty = g.repetition_penalty;
  return out;
}
