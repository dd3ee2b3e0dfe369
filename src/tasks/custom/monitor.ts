/** The custom task's monitor: the spec's monitor block, with the spec's `deployment:` / `sweep:` applied, and the sweep's x axis. */
import type { LabelEncoding } from "../../monitor/encoding.js";
import { MonitorSpecSchema, type LabelRef, type MonitorSpec } from "../../monitor/monitor.js";
import type { CustomConfig } from "./config.js";

/** The parameter an encoding renders (template labels have none). */
function paramOf(enc: LabelEncoding): string | null {
  return enc.kind === "template" ? null : enc.param;
}

/**
 * A label value from the spec's `deployment:` or `sweep:`: a number is the monitor parameter's value; a string is a
 * score for percentage labels ("0%", "40"), a bucket name or a categorical value where it names one, else literal text.
 */
export function labelRefOf(enc: LabelEncoding, v: string | number): LabelRef {
  const param = paramOf(enc);
  if (typeof v === "number" && param !== null) return { params: { [param]: v } };
  const text = String(v);
  const score = /^\s*(-?\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (enc.kind === "percentage" && score) {
    const t = (Number(score[1]) - enc.to[0]) / (enc.to[1] - enc.to[0]);
    return { params: { [enc.param]: enc.from[0] + t * (enc.from[1] - enc.from[0]) } };
  }
  if (enc.kind === "buckets" && enc.names.includes(text)) {
    const i = enc.names.indexOf(text);
    return { params: { [enc.param]: enc.from[0] + ((i + 0.5) * (enc.from[1] - enc.from[0])) / enc.names.length } };
  }
  if (enc.kind === "categorical" && Object.hasOwn(enc.values, text)) return { params: { [enc.param]: text } };
  return { text };
}

/** The monitor spec the experiment runs with. */
export function monitorOf(c: CustomConfig): MonitorSpec {
  const m = MonitorSpecSchema.parse(c.monitor);
  return {
    ...m,
    deployment: c.deploymentLabel !== undefined ? labelRefOf(m.encoding, c.deploymentLabel) : m.deployment,
    sweep: c.sweepLabels !== undefined ? c.sweepLabels.map((v) => labelRefOf(m.encoding, v)) : m.sweep,
  };
}

/** Where a label sits on the sweep's x axis: a percentage's score, a buckets parameter's value, else its index. */
export function sweepAxisOf(c: CustomConfig): { title: string; x: number[] } {
  const m = monitorOf(c);
  const enc = m.encoding;
  const x = m.sweep.map((ref, i) => {
    const v = "params" in ref && paramOf(enc) !== null ? ref.params[paramOf(enc)!] : undefined;
    if (typeof v !== "number") return i;
    if (enc.kind !== "percentage") return v;
    return enc.to[0] + ((v - enc.from[0]) / (enc.from[1] - enc.from[0])) * (enc.to[1] - enc.to[0]);
  });
  const title =
    enc.kind === "percentage"
      ? `${m.id} label (score)`
      : enc.kind === "buckets"
        ? `${m.id} ${enc.param}`
        : `${m.id} label (sweep position)`;
  return { title, x };
}
