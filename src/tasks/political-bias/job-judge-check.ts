/** The judge-check job: validates the embedded judge on fresh generator articles of every profile (agreement, ordering). */
import type { Json } from "../../data/sample.js";
import type { JobContext, JobSpec } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { validateJudge, validationJson } from "./judge-validation.js";
import { topicSplit } from "./setup.js";

export async function job(_job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const v = validateJudge(topicSplit(cfg).val, cfg.judgeValidationPerProfile, "check", cfg.world, cfg.judge);
  ctx.log(`judge check: profile agreement ${v.profileAgreement.toFixed(3)}, order ${v.orderAgreement.toFixed(3)}`);
  return validationJson(v);
}
