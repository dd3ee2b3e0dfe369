/** A problem as the model sees it (the visible tests, then "f(x)=" for the program) and as a task-agnostic Sample. */
import type { Sample } from "../../data/sample.js";
import { MONITOR_ID } from "./labels.js";
import type { Problem } from "./problems.js";

/** The user turn: "f(2)=5, f(4)=7, f(7)=10. f(x)=" — the program is the continuation. */
export function userText(p: Pick<Problem, "visible">): string {
  return `${p.visible.map(([x, y]) => `f(${x})=${y}`).join(", ")}. f(x)=`;
}

/**
 * A problem as a Sample: the coverage label goes before the problem (`user-prefix`), the grader's true coverage `k`
 * is the monitor parameter, and the grader needs the visible tests and the hidden suite.
 */
export function problemSample(p: Problem, k: number): Sample {
  return {
    id: p.id,
    prompt: { user: userText(p), labelSlot: "user-prefix" },
    monitor: { id: MONITOR_ID, params: { k } },
    rewardInputs: { visible: p.visible, hidden: p.hidden },
    meta: { family: p.fn.family, a: p.fn.a, b: p.fn.b },
  };
}
