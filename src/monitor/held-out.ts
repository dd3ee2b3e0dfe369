/** Held-out monitor values: numeric ranges and categorical values that training data must never contain. */
import { z } from "zod";
import { ParamValueSchema } from "../data/sample.js";
import type { Params } from "./encoding.js";

/** A numeric range on one parameter, e.g. s in [0, 0.5): `{ kind: range, param: s, min: 0, max: 0.5 }`. */
export const HeldOutRangeSchema = z
  .strictObject({
    kind: z.literal("range"),
    param: z.string().min(1).describe("Numeric monitor parameter"),
    min: z.number().default(-Infinity).describe("Lower end (default: unbounded)"),
    max: z.number().default(Infinity).describe("Upper end (default: unbounded)"),
    includeMin: z.boolean().default(true).describe("Whether `min` itself is held out"),
    includeMax: z.boolean().default(false).describe("Whether `max` itself is held out"),
  })
  // bounds swapped (min 0.5, max 0) or a point without both ends hold nothing out: the held-out check would pass
  // every value silently, so the "generalisation" measured would be to values seen in training
  .superRefine((r, ctx) => {
    const empty = r.min > r.max || (r.min === r.max && !(r.includeMin && r.includeMax));
    if (empty)
      ctx.addIssue({
        code: "custom",
        path: ["max"],
        message:
          `the range ${describeHeldOut({ ...r })} holds no value (min must be below max` +
          `${r.min === r.max ? ", or a single value held with includeMin and includeMax" : ""}); were min and max swapped?`,
      });
  })
  .describe("A held-out numeric range, half-open [min, max) by default");

/** Categorical values on one parameter, e.g. profile = unbiased. */
export const HeldOutValuesSchema = z
  .strictObject({
    kind: z.literal("values"),
    param: z.string().min(1).describe("Monitor parameter"),
    values: z.array(ParamValueSchema).min(1).describe("Held-out values"),
  })
  .describe("Held-out categorical values");

export const HeldOutSchema = z.discriminatedUnion("kind", [HeldOutRangeSchema, HeldOutValuesSchema]);
export type HeldOut = z.infer<typeof HeldOutSchema>;

/** `s in [0, 0.5)` or `profile in {"unbiased"}`. */
export function describeHeldOut(rule: HeldOut): string {
  if (rule.kind === "values") return `${rule.param} in {${rule.values.map((v) => JSON.stringify(v)).join(", ")}}`;
  return `${rule.param} in ${rule.includeMin ? "[" : "("}${rule.min}, ${rule.max}${rule.includeMax ? "]" : ")"}`;
}

/** Whether `value` falls in `rule`. A parameter the monitor does not have is never held out. */
export function isHeldOutValue(rule: HeldOut, value: unknown): boolean {
  if (value === undefined) return false;
  if (rule.kind === "values") return rule.values.some((v) => v === value);
  if (typeof value !== "number") return false;
  const aboveMin = rule.includeMin ? value >= rule.min : value > rule.min;
  const belowMax = rule.includeMax ? value <= rule.max : value < rule.max;
  return aboveMin && belowMax;
}

/** The first rule `params` violates, or null. */
export function findHeldOut(rules: readonly HeldOut[], params: Params): HeldOut | null {
  for (const r of rules) if (isHeldOutValue(r, params[r.param])) return r;
  return null;
}
