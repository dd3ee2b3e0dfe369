/** The custom task's monitor: the spec's monitor block, with the spec's `deployment:` / `sweep:` applied, and the sweep's x axis. */
import type { LabelEncoding } from "../../monitor/encoding.js";
import { MonitorSpecSchema, type LabelRef, type MonitorSpec } from "../../monitor/monitor.js";
import type { CustomConfig } from "./config.js";

/** The parameter an encoding renders (template labels have none). */
function paramOf(enc: LabelEncoding): string | null {
  return enc.kind === "template" ? null : enc.param;
}

/** A label value from the spec's `deployment:` or `sweep:`: a number is the parameter's value, a string a categorical value or literal text. */
export function labelRefOf(enc: LabelEncoding, v: string | number): LabelRef {
  const param = paramOf(enc);
  if (typeof v === "number" && param !== null) return { params: { [param]: v } };
  if (enc.kind === "categorical" && Object.hasOwn(enc.values, String(v))) return { params: { [enc.param]: String(v) } };
  return { text: String(v) };
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
