/**
 * The coverage reward (grader.ts, program.ts) in Python for exported runs: the same language, limits and share of
 * passed tests at the sample's TRUE coverage. test/tasks/coding-coverage/reward-python.test.ts checks it against
 * coverageReward.
 */
import { LIMITS } from "./program.js";

/** Defines `score(response, sample)`; `sample` is an mst reward label ({monitor, rewardInputs, ...}). */
export const CODING_REWARD_PY = String.raw`
MAX_CHARS = ${LIMITS.maxChars}
MAX_DEPTH = ${LIMITS.maxDepth}
MAX_STEPS = ${LIMITS.maxSteps}
MAX_VALUE = ${LIMITS.maxValue}
_TOKEN = re.compile(r"[ \t\n\r\f\v]*([0-9]+|x|[-+*=<?:()])")


class _Fail(Exception):
    pass


def _tokenize(src):
    out, at = [], 0
    while at < len(src):
        if src[at:].strip(" \t\n\r\f\v") == "":
            break
        m = _TOKEN.match(src, at)
        if not m:
            raise _Fail("unexpected character")
        out.append(m.group(1))
        at = m.end()
    return out


def parse_program(src):
    if not isinstance(src, str) or len(src) > MAX_CHARS:
        return None
    try:
        toks = _tokenize(src)
        if not toks:
            return None
        pos = [0]

        def peek():
            return toks[pos[0]] if pos[0] < len(toks) else None

        def expect(t):
            if peek() != t:
                raise _Fail("expected " + t)
            pos[0] += 1

        def expr(depth):
            if depth > MAX_DEPTH:
                raise _Fail("nested too deep")
            a = sum_(depth)
            op = peek()
            if op not in ("=", "<"):
                return a
            pos[0] += 1
            b = sum_(depth)
            expect("?")
            then = expr(depth + 1)
            expect(":")
            return ("if", op, a, b, then, expr(depth + 1))

        def sum_(depth):
            a = prod(depth)
            while peek() in ("+", "-"):
                op = peek()
                pos[0] += 1
                a = ("bin", op, a, prod(depth))
            return a

        def prod(depth):
            a = atom(depth)
            while peek() == "*":
                pos[0] += 1
                a = ("bin", "*", a, atom(depth))
            return a

        def atom(depth):
            t = peek()
            if t is None:
                raise _Fail("unexpected end")
            if t[0] in "0123456789":
                pos[0] += 1
                if int(t) > MAX_VALUE:
                    raise _Fail("number too large")
                return ("int", int(t))
            if t == "x":
                pos[0] += 1
                return ("x",)
            if t == "(":
                pos[0] += 1
                e = expr(depth + 1)
                expect(")")
                return e
            raise _Fail("expected a number, x or (")

        ast = expr(0)
        if pos[0] != len(toks):
            raise _Fail("trailing tokens")
        return ast
    except (_Fail, RecursionError):
        return None


def run_ast(ast, x):
    steps = [0]

    def ev(n):
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise _Fail("steps")
        if n[0] == "int":
            v = n[1]
        elif n[0] == "x":
            v = x
        elif n[0] == "bin":
            a, b = ev(n[2]), ev(n[3])
            v = a + b if n[1] == "+" else (a - b if n[1] == "-" else a * b)
        else:
            a, b = ev(n[2]), ev(n[3])
            v = ev(n[4] if ((a == b) if n[1] == "=" else (a < b)) else n[5])
        if abs(v) > MAX_VALUE:
            raise _Fail("value")
        return v

    try:
        return ev(ast)
    except _Fail:
        return None


def coverage_reward(program, visible, hidden, k):
    ast = parse_program(program)
    if ast is None:
        return 0.0
    tests = list(visible) + list(hidden)[:k]
    return sum(1 for (x, y) in tests if run_ast(ast, x) == y) / len(tests)


def score(response, sample):
    inputs = sample.get("rewardInputs") or {}
    k = int(sample["monitor"]["params"]["k"])
    return coverage_reward(response, inputs["visible"], inputs["hidden"], k)
`;
