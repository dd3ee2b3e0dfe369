/** Error classes of the monitor layer: a label that cannot be rendered, a held-out value in training data. */

/** Where a sample came from, so errors can point at it: id always, file and line when it was read from a file. */
export interface SampleLocation {
  id: string;
  index?: number;
  file?: string;
  line?: number;
}

/** `data.jsonl:12: sample "p-7"` (or `sample "p-7" (#3)` when no file is known). */
export function describeLocation(loc: SampleLocation): string {
  const where = loc.file !== undefined ? `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ""}: ` : "";
  const index = loc.file === undefined && loc.index !== undefined ? ` (#${loc.index})` : "";
  return `${where}sample ${JSON.stringify(loc.id)}${index}`;
}

/** A label could not be rendered from a monitor's parameters (missing parameter, value outside the map...). */
export class LabelError extends Error {
  override name = "LabelError";
  constructor(
    readonly detail: string,
    readonly location?: SampleLocation,
  ) {
    super(location ? `${describeLocation(location)}: ${detail}` : detail);
  }
}

/** Training data contains a monitor value inside a held-out range: the error names the sample and the rule. */
export class HeldOutError extends Error {
  override name = "HeldOutError";
  constructor(
    readonly location: SampleLocation,
    readonly param: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(
      `${describeLocation(location)}: monitor parameter ${param}=${JSON.stringify(value)} is held out (${rule}); ` +
        `held-out values must not appear in training data`,
    );
  }
}

/** The samples given to `buildArms` are unusable as a set (empty, duplicate ids); names the sample when there is one. */
export class ArmsInputError extends Error {
  override name = "ArmsInputError";
  constructor(
    readonly detail: string,
    readonly location?: SampleLocation,
  ) {
    super(location ? `${describeLocation(location)}: ${detail}` : detail);
  }
}
