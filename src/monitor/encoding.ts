/** Label encodings: pure functions from monitor parameters to label text, one per kind, driven by a zod union. */
import { z } from "zod";
import type { ParamValue } from "../data/sample.js";
import { LabelError } from "./errors.js";

export type Params = Record<string, ParamValue>;

const boldField = z.boolean().default(false).describe("Wrap the whole label in markdown bold: **...**");
const outOfRangeField = z
  .enum(["error", "clamp", "extrapolate"])
  .default("error")
  .describe("A value outside `from`: throw, clamp to the edge, or map it linearly anyway");
const rangeField = z.tuple([z.number(), z.number()]).refine(([a, b]) => a !== b, "the two ends must differ");

/**
 * Percentage (or any linear score): maps parameter `param` linearly from `from` onto `to` and rounds.
 * Rounding: the mapped value is first snapped to 1e-9 to remove float noise (0.6 / 1.5 * 100 = 40.000000000000014),
 * then rounded to `decimals` places by `rounding` (`half-up` rounds .5 away from zero).
 * `width` zero-pads the integer part ("040"), which makes every rendering the same length: unpadded, "10" is a prefix
 * of "100" digit by digit, and a small model trained on digit tokens showed a hole at 10% (DESIGN.md).
 */
export const PercentageEncodingSchema = z
  .strictObject({
    kind: z.literal("percentage"),
    param: z.string().min(1).describe("The numeric monitor parameter to encode, e.g. 's'"),
    from: rangeField.describe("Parameter range [lo, hi] mapped onto `to`, e.g. [0, 1.5]"),
    to: rangeField.default([0, 100]).describe("Score range, e.g. [0, 100]"),
    decimals: z.int().min(0).max(6).default(0).describe("Decimal places of the rendered score"),
    rounding: z.enum(["half-up", "floor", "ceil"]).default("half-up").describe("How the score is rounded"),
    width: z.int().min(0).max(12).default(0).describe("Zero-pad the integer part to this many digits (0 = no padding)"),
    outOfRange: outOfRangeField,
    template: z
      .string()
      .default("{value}%")
      .describe("Label text; {value} is the score, {<param>} any monitor parameter"),
    bold: boldField,
  })
  .describe("Linear map of a numeric parameter onto a score, e.g. s in [0, 1.5] -> 0..100%");

/** N named buckets splitting [lo, hi] into equal parts; the upper edge belongs to the last bucket. */
export const BucketsEncodingSchema = z
  .strictObject({
    kind: z.literal("buckets"),
    param: z.string().min(1).describe("The numeric monitor parameter to encode"),
    from: rangeField.describe("Parameter range [lo, hi] split into equal buckets"),
    names: z
      .array(z.string().min(1))
      .min(2)
      .describe("Bucket names from lowest to highest, e.g. ['low', 'medium', 'high']"),
    outOfRange: outOfRangeField.describe("A value outside `from`: throw, or put it in the nearest end bucket"),
    template: z.string().default("{value}").describe("Label text; {value} is the bucket name"),
    bold: boldField,
  })
  .describe("N named buckets over a numeric range");

/** A categorical parameter (e.g. a bias profile) mapped to a sentence per value. */
export const CategoricalEncodingSchema = z
  .strictObject({
    kind: z.literal("categorical"),
    param: z.string().min(1).describe("The categorical monitor parameter, e.g. 'profile'"),
    values: z
      .record(z.string(), z.string())
      .refine((v) => Object.keys(v).length > 0, "at least one value")
      .describe("Parameter value -> label sentence, e.g. { strong_left: 'An editor who ...' }"),
    template: z.string().default("{value}").describe("Label text; {value} is the sentence, {<param>} the raw value"),
    bold: boldField,
  })
  .describe("Categorical profile: one sentence per parameter value");

/** A free template whose `{placeholders}` are monitor parameters. */
export const TemplateEncodingSchema = z
  .strictObject({
    kind: z.literal("template"),
    template: z
      .string()
      .min(1)
      .describe("Label text with {param} placeholders, e.g. 'Judge: {judge}, strictness {level}'"),
    bold: boldField,
  })
  .describe("Free template over monitor parameters");

export const LabelEncodingSchema = z
  .discriminatedUnion("kind", [
    PercentageEncodingSchema,
    BucketsEncodingSchema,
    CategoricalEncodingSchema,
    TemplateEncodingSchema,
  ])
  .describe("How a monitor's parameters are rendered as label text");
export type LabelEncoding = z.infer<typeof LabelEncodingSchema>;
export type LabelEncodingInput = z.input<typeof LabelEncodingSchema>;
export type EncodingKind = LabelEncoding["kind"];
export type PercentageEncoding = z.infer<typeof PercentageEncodingSchema>;
export type BucketsEncoding = z.infer<typeof BucketsEncodingSchema>;
export type CategoricalEncoding = z.infer<typeof CategoricalEncodingSchema>;
export type TemplateEncoding = z.infer<typeof TemplateEncodingSchema>;
export type PercentageEncodingInput = z.input<typeof PercentageEncodingSchema>;
export type BucketsEncodingInput = z.input<typeof BucketsEncodingSchema>;
export type CategoricalEncodingInput = z.input<typeof CategoricalEncodingSchema>;
export type TemplateEncodingInput = z.input<typeof TemplateEncodingSchema>;

/** Replaces `{name}` with `vars[name]`; an unknown placeholder throws naming it and the names available. */
export function fillTemplate(template: string, vars: Record<string, ParamValue>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (_m, name: string) => {
    if (!(name in vars)) {
      throw new LabelError(
        `label template ${JSON.stringify(template)} uses {${name}}, which is not available (have: ${Object.keys(vars).join(", ") || "none"})`,
      );
    }
    return String(vars[name]);
  });
}

function numberParam(params: Params, name: string, kind: string): number {
  const v = params[name];
  if (v === undefined) throw new LabelError(`${kind} label needs monitor parameter "${name}", which is missing`);
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new LabelError(`${kind} label needs a finite number for "${name}", got ${JSON.stringify(v)}`);
  return v;
}

/** Position of x in [lo, hi] as t in [0, 1] (t outside when x is), applying the out-of-range policy. */
function position(x: number, [lo, hi]: [number, number], policy: string, name: string, kind: string): number {
  const t = (x - lo) / (hi - lo);
  if (t >= 0 && t <= 1) return t;
  if (policy === "clamp") return t < 0 ? 0 : 1;
  if (policy === "extrapolate") return t;
  throw new LabelError(`${kind} label: ${name}=${x} is outside the encoded range [${lo}, ${hi}]`);
}

/** Snap to 1e-9 so float noise does not decide a floor/ceil or a .5 tie. */
function snap(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

/** Rounds and formats a score: `decimals` places, integer part zero-padded to `width` digits. */
export function formatScore(
  v: number,
  decimals: number,
  rounding: "half-up" | "floor" | "ceil",
  width: number,
): string {
  const f = 10 ** decimals;
  const x = snap(v * f);
  let r: number;
  if (rounding === "floor") r = Math.floor(x);
  else if (rounding === "ceil") r = Math.ceil(x);
  else r = Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
  const neg = r < 0;
  const digits = Math.abs(r)
    .toFixed(0)
    .padStart(decimals + 1, "0");
  const intPart = digits.slice(0, digits.length - decimals).padStart(width, "0");
  const frac = decimals > 0 ? "." + digits.slice(digits.length - decimals) : "";
  return (neg ? "-" : "") + intPart + frac;
}

function bold(text: string, on: boolean): string {
  return on ? `**${text}**` : text;
}

/** One renderer per encoding kind; the compiler flags a kind without one. */
export const ENCODERS: { [K in EncodingKind]: (enc: Extract<LabelEncoding, { kind: K }>, params: Params) => string } = {
  percentage: (enc, params) => {
    const x = numberParam(params, enc.param, "percentage");
    const t = position(x, enc.from, enc.outOfRange, enc.param, "percentage");
    const score = enc.to[0] + t * (enc.to[1] - enc.to[0]);
    const value = formatScore(score, enc.decimals, enc.rounding, enc.width);
    return bold(fillTemplate(enc.template, { ...params, value }), enc.bold);
  },
  buckets: (enc, params) => {
    const x = numberParam(params, enc.param, "buckets");
    const t = position(x, enc.from, enc.outOfRange === "extrapolate" ? "clamp" : enc.outOfRange, enc.param, "buckets");
    const n = enc.names.length;
    const i = Math.min(n - 1, Math.max(0, Math.floor(snap(t * n))));
    return bold(fillTemplate(enc.template, { ...params, value: enc.names[i] }), enc.bold);
  },
  categorical: (enc, params) => {
    const v = params[enc.param];
    if (v === undefined)
      throw new LabelError(`categorical label needs monitor parameter "${enc.param}", which is missing`);
    const key = String(v);
    if (!Object.hasOwn(enc.values, key)) {
      throw new LabelError(
        `categorical label: ${enc.param}=${JSON.stringify(v)} has no sentence (known: ${Object.keys(enc.values).join(", ")})`,
      );
    }
    return bold(fillTemplate(enc.template, { ...params, value: enc.values[key] }), enc.bold);
  },
  template: (enc, params) => bold(fillTemplate(enc.template, params), enc.bold),
};

/**
 * Renders the label for `params` under `encoding` (a parsed encoding, or raw spec input that is parsed here).
 *
 * ```ts
 * renderLabel({ kind: "percentage", param: "s", from: [0, 1.5], template: "Suggestibility Level: {value}%", bold: true },
 *             { s: 0.6 }); // "**Suggestibility Level: 40%**"
 * ```
 */
export function renderLabel(encoding: LabelEncodingInput, params: Params): string {
  const enc = LabelEncodingSchema.parse(encoding);
  return (ENCODERS[enc.kind] as (e: LabelEncoding, p: Params) => string)(enc, params);
}

/** Parses `encoding` once and returns a renderer, for rendering many labels. */
export function createLabeler(encoding: LabelEncodingInput): (params: Params) => string {
  const enc = LabelEncodingSchema.parse(encoding);
  const render = ENCODERS[enc.kind] as (e: LabelEncoding, p: Params) => string;
  return (params) => render(enc, params);
}
