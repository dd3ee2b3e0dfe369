/** Schedules used by the trainers: a linear ramp-then-hold (PPO temperature and entropy bonus). */
import { z } from "zod";

/** A value that moves linearly from `start` to `end` over the first `fraction` of training, then holds `end`. */
export const LinearScheduleSchema = z.strictObject({
  start: z.number().describe("Value at the first step."),
  end: z.number().describe("Value reached once `fraction` of training has passed, held afterwards."),
  fraction: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe("Fraction of training over which the value moves (0: `end` from the start). Default 1."),
});
export type LinearSchedule = z.output<typeof LinearScheduleSchema>;
export type LinearScheduleInput = z.input<typeof LinearScheduleSchema>;

/**
 * Value of a linear schedule at 0-based `step` of `totalSteps`. Progress is `step / (totalSteps - 1)`, so step 0
 * gives `start` and, with fraction 1, the last step gives exactly `end` (the paper: "decayed linearly to 0.01 over
 * training"); with fraction 0.4 the value reaches `end` at progress 0.4 and holds it.
 *
 * ```ts
 * linearSchedule(0, 1600, { start: 1.9, end: 1.6, fraction: 0.4 }); // 1.9
 * ```
 */
export function linearSchedule(step: number, totalSteps: number, s: LinearSchedule): number {
  if (s.fraction === 0) return s.end;
  const progress = totalSteps > 1 ? step / (totalSteps - 1) : 1;
  const t = Math.min(1, Math.max(0, progress / s.fraction));
  return s.start + (s.end - s.start) * t;
}
