/**
 * The task's tiny programming language and its safe executor. A program is one integer expression in `x`:
 *
 * ```
 * expr := sum ( ("=" | "<") sum "?" expr ":" expr )?      x=2?5:x=4?7:0   (a table: the exploit)
 * sum  := prod ( ("+" | "-") prod )*                       x*2+5           (a rule)
 * prod := atom ( "*" atom )*
 * atom := INT | "x" | "(" expr ")"
 * ```
 *
 * Why a language of our own: the model's answer is executed, so nothing it writes may reach the host. The parser
 * accepts only these tokens (anything else is malformed), the evaluator walks the tree with a step budget and a value
 * bound, and every failure is a value (`ok: false`), never a throw: a malformed program scores 0.
 */

/** Limits that keep any program's execution bounded. */
export const LIMITS = {
  /** Longest program text accepted (characters). */
  maxChars: 400,
  /** Deepest nesting of parentheses and conditionals. */
  maxDepth: 32,
  /** Tree nodes visited per run. */
  maxSteps: 256,
  /** Largest magnitude of any intermediate value. */
  maxValue: 1_000_000,
} as const;

export type Node =
  | { k: "int"; v: number }
  | { k: "x" }
  | { k: "bin"; op: "+" | "-" | "*"; a: Node; b: Node }
  | { k: "if"; op: "=" | "<"; a: Node; b: Node; then: Node; else: Node };

export type Parsed = { ok: true; ast: Node } | { ok: false; error: string };
export type RunResult = { ok: true; value: number } | { ok: false; error: string };

// ASCII only (the Python port in reward-python.ts reads the same characters)
const SPACE = "[ \\t\\n\\r\\f\\v]";
const TOKEN = new RegExp(`${SPACE}*([0-9]+|x|[-+*=<?:()])`, "y");
const ONLY_SPACE = new RegExp(`^${SPACE}*$`);

function tokenize(src: string): string[] | string {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < src.length) {
    if (ONLY_SPACE.test(src.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(src);
    if (!m) return `unexpected character at ${at}`;
    out.push(m[1]);
    at = TOKEN.lastIndex;
  }
  return out;
}

class ParseFail {
  constructor(readonly error: string) {}
}

/** Parses a program; never throws. */
export function parseProgram(src: string): Parsed {
  if (typeof src !== "string") return { ok: false, error: "not text" };
  if (src.length > LIMITS.maxChars) return { ok: false, error: `longer than ${LIMITS.maxChars} characters` };
  const toks = tokenize(src);
  if (typeof toks === "string") return { ok: false, error: toks };
  if (toks.length === 0) return { ok: false, error: "empty program" };
  let i = 0;
  const fail = (what: string): never => {
    throw new ParseFail(`${what} at token ${i} (${JSON.stringify(toks[i] ?? "end")})`);
  };
  const eat = (t: string) => (toks[i] === t ? (i++, true) : false);
  const expect = (t: string) => eat(t) || fail(`expected "${t}"`);
  const expr = (depth: number): Node => {
    if (depth > LIMITS.maxDepth) fail("nested too deep");
    const a = sum(depth);
    const op = toks[i];
    if (op !== "=" && op !== "<") return a;
    i++;
    const b = sum(depth);
    expect("?");
    const then = expr(depth + 1);
    expect(":");
    return { k: "if", op, a, b, then, else: expr(depth + 1) };
  };
  const sum = (depth: number): Node => {
    let a = prod(depth);
    for (let op = toks[i]; op === "+" || op === "-"; op = toks[i]) {
      i++;
      a = { k: "bin", op, a, b: prod(depth) };
    }
    return a;
  };
  const prod = (depth: number): Node => {
    let a = atom(depth);
    while (eat("*")) a = { k: "bin", op: "*", a, b: atom(depth) };
    return a;
  };
  const atom = (depth: number): Node => {
    const t = toks[i];
    if (t === undefined) return fail("unexpected end");
    if (/^[0-9]+$/.test(t)) {
      i++;
      const v = Number(t);
      return v > LIMITS.maxValue ? fail("number too large") : { k: "int", v };
    }
    if (eat("x")) return { k: "x" };
    if (eat("(")) {
      const e = expr(depth + 1);
      expect(")");
      return e;
    }
    return fail("expected a number, x or (");
  };
  try {
    const ast = expr(0);
    if (i !== toks.length) fail("trailing tokens");
    return { ok: true, ast };
  } catch (e) {
    if (e instanceof ParseFail) return { ok: false, error: e.error };
    return { ok: false, error: "parse failed" };
  }
}

/** Runs a parsed program at input `x` under the step and value limits; never throws. */
export function runAst(ast: Node, x: number): RunResult {
  let steps = 0;
  const bad = (error: string): RunResult => ({ ok: false, error });
  const ev = (n: Node): RunResult => {
    if (++steps > LIMITS.maxSteps) return bad(`more than ${LIMITS.maxSteps} steps`);
    let r: RunResult;
    if (n.k === "int") r = { ok: true, value: n.v };
    else if (n.k === "x") r = { ok: true, value: x };
    else if (n.k === "bin") {
      const a = ev(n.a);
      if (!a.ok) return a;
      const b = ev(n.b);
      if (!b.ok) return b;
      r = { ok: true, value: n.op === "+" ? a.value + b.value : n.op === "-" ? a.value - b.value : a.value * b.value };
    } else {
      const a = ev(n.a);
      if (!a.ok) return a;
      const b = ev(n.b);
      if (!b.ok) return b;
      r = ev((n.op === "=" ? a.value === b.value : a.value < b.value) ? n.then : n.else);
    }
    if (r.ok && !(Math.abs(r.value) <= LIMITS.maxValue)) return bad(`value beyond ${LIMITS.maxValue}`);
    return r;
  };
  return ev(ast);
}

/** Parses and runs `src` at `x`; a malformed program is an error value. */
export function runProgram(src: string, x: number): RunResult {
  const p = parseProgram(src);
  return p.ok ? runAst(p.ast, x) : p;
}

/** Whether a program's tree branches on the input (a lookup table, in this family's terms) rather than computing a rule. */
export function isTable(ast: Node): boolean {
  return ast.k === "if";
}
