/** A monitor (id + parameters) and its spec: how it is rendered as a label, which values are held out, the deployment label. */
import { z } from "zod";
import { MonitorRefSchema, ParamValueSchema, type MonitorRef } from "../data/sample.js";
import { LabelEncodingSchema, createLabeler, type Params } from "./encoding.js";
import { HeldOutError, LabelError, type SampleLocation } from "./errors.js";
import { HeldOutSchema, describeHeldOut, findHeldOut } from "./held-out.js";

/** The monitor a sample was evaluated by: an id and the parameters its label encodes (same shape as a sample's `monitor`). */
export const MonitorSchema = MonitorRefSchema;
export type Monitor = MonitorRef;

/**
 * A label named either by monitor parameters (rendered through the spec's encoding, e.g. `{ params: { s: 0 } }` for
 * the seed's 0% label) or by literal text (a label no parameter value produces, e.g. an "unbiased evaluator" sentence).
 */
export const LabelRefSchema = z
  .union([
    z.strictObject({
      params: z.record(z.string(), ParamValueSchema).describe("Monitor parameters rendered through the encoding"),
    }),
    z.strictObject({ text: z.string().min(1).describe("Literal label text, used as is") }),
  ])
  .describe("A label given by monitor parameters ({ params }) or literal text ({ text })");
export type LabelRef = z.infer<typeof LabelRefSchema>;

export const MonitorSpecSchema = z
  .strictObject({
    id: z.string().min(1).describe("Monitor id; every sample's monitor.id must equal it"),
    description: z.string().optional().describe("What feedback this monitor stands for (shown in the manifest)"),
    encoding: LabelEncodingSchema,
    heldOut: z
      .array(HeldOutSchema)
      .default([])
      .describe("Monitor values that training data must not contain (they are kept for evaluation)"),
    deployment: LabelRefSchema.describe("The label used at deployment, e.g. { params: { s: 0 } }"),
    sweep: z
      .array(LabelRefSchema)
      .default([])
      .describe("Extra labels to evaluate at (a label sweep, e.g. 0..100%); rendered into the manifest"),
  })
  .describe("A monitor: label encoding, held-out values, deployment label and optional sweep");
export type MonitorSpec = z.infer<typeof MonitorSpecSchema>;
export type MonitorSpecInput = z.input<typeof MonitorSpecSchema>;

/** Renders monitors of one spec as labels, checking ids and held-out values; errors name the sample. */
export interface MonitorLabeler {
  readonly spec: MonitorSpec;
  /** The label of `monitor`; throws `LabelError` naming `loc` if the id differs or the label cannot be rendered. */
  label(monitor: Monitor, loc?: SampleLocation): string;
  /** Throws `HeldOutError` naming `loc` if `monitor` has a held-out value (training data only). */
  checkTraining(monitor: Monitor, loc: SampleLocation): void;
  /** The text of a label reference (deployment or sweep); held-out values are allowed here. */
  labelOf(ref: LabelRef): string;
}

/** Builds a `MonitorLabeler` for a spec (parsed here if given as raw input). */
export function createMonitorLabeler(specInput: MonitorSpecInput | MonitorSpec): MonitorLabeler {
  const spec = MonitorSpecSchema.parse(specInput);
  const render = createLabeler(spec.encoding);
  const renderAt = (params: Params, loc?: SampleLocation): string => {
    try {
      return render(params);
    } catch (e) {
      if (e instanceof LabelError && loc) throw new LabelError(e.detail, loc);
      throw e;
    }
  };
  return {
    spec,
    label(monitor, loc) {
      if (monitor.id !== spec.id) {
        const detail = `monitor id ${JSON.stringify(monitor.id)} does not match the spec's monitor ${JSON.stringify(spec.id)}`;
        throw new LabelError(detail, loc);
      }
      return renderAt(monitor.params, loc);
    },
    checkTraining(monitor, loc) {
      const rule = findHeldOut(spec.heldOut, monitor.params);
      if (rule) throw new HeldOutError(loc, rule.param, monitor.params[rule.param], describeHeldOut(rule));
    },
    labelOf(ref) {
      return "text" in ref ? ref.text : renderAt(ref.params);
    },
  };
}

/** The text of the deployment label of a monitor spec. */
export function deploymentLabel(spec: MonitorSpecInput | MonitorSpec): string {
  const s = MonitorSpecSchema.parse(spec);
  return createMonitorLabeler(s).labelOf(s.deployment);
}
