/** The coding task's executor on hand-made programs: rules, tables, malformed programs (0, never a throw), no escape. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { LIMITS, isTable, parseProgram, runProgram } from "../../../src/tasks/coding-coverage/program.js";
import { coverageReward, gradeProgram } from "../../../src/tasks/coding-coverage/grader.js";

const value = (src: string, x: number) => {
  const r = runProgram(src, x);
  return r.ok ? r.value : `error: ${r.error}`;
};

test("rules compute their function with the usual precedence", () => {
  assert.equal(value("x+3", 4), 7);
  assert.equal(value("x*4", 3), 12);
  assert.equal(value("x*2+5", 4), 13);
  assert.equal(value("5+x*2", 4), 13);
  assert.equal(value("(x+1)*3", 2), 9);
  assert.equal(value("x-10", 3), -7);
  assert.equal(value(" x * 2 + 5 ", 1), 7, "spaces between tokens are allowed");
  assert.equal(value("7", 100), 7, "a constant is a program");
});

test("tables answer their rows and fall back to the last branch", () => {
  const t = "x=2?9:x=4?13:0";
  assert.equal(value(t, 2), 9);
  assert.equal(value(t, 4), 13);
  assert.equal(value(t, 5), 0);
  assert.equal(value("x<3?1:x*2", 2), 1);
  assert.equal(value("x<3?1:x*2", 5), 10);
  const parsed = parseProgram(t);
  assert.ok(parsed.ok && isTable(parsed.ast));
  const rule = parseProgram("x*2+5");
  assert.ok(rule.ok && !isTable(rule.ast));
});

const MALFORMED = [
  "",
  "   ",
  "x+",
  "x=2?5",
  "x=2?5:",
  "(x+1",
  "x+1)",
  "x x",
  "return x+3",
  "x/2",
  "x%3",
  "y+1",
  "X+1",
  "x**2",
  "-x",
  "x=2?5:x=4",
  "process.exit(1)",
  "require('fs').writeFileSync('/tmp/pwned','')",
  "globalThis",
  "constructor",
  "__proto__",
  "x;while(1){}",
  "eval('1')",
  "${x}",
  "x\u00a0+1",
  "٣+x",
  "x+99999999",
  "(".repeat(40) + "x" + ")".repeat(40),
  "x+1".repeat(200),
];

test("malformed programs are values, never throws, and score 0 at every coverage", () => {
  const problem = {
    visible: [
      [2, 9],
      [4, 13],
    ] as [number, number][],
    hidden: [
      [1, 7],
      [3, 11],
      [5, 15],
    ] as [number, number][],
  };
  for (const src of MALFORMED) {
    const p = parseProgram(src);
    assert.equal(p.ok, false, `${JSON.stringify(src.slice(0, 40))} should not parse`);
    for (let k = 0; k <= problem.hidden.length; k++) assert.equal(coverageReward(src, problem, k), 0);
    const g = gradeProgram(src, problem);
    assert.deepEqual([g.wellFormed, g.passesVisible, g.hack, g.passesAll], [false, false, false, false]);
  }
});

test("execution is bounded: deep products and huge values are errors, not hangs or Infinity", () => {
  const big = Array.from({ length: 30 }, () => "x").join("*");
  assert.match(String(value(big, 10)), /^error: value beyond/);
  const long = Array.from({ length: 150 }, () => "x").join("+");
  assert.ok(long.length <= LIMITS.maxChars);
  assert.match(String(value(long, 1)), /^error: more than 256 steps/);
  assert.equal(parseProgram("x+".repeat(250) + "x").ok, false, "longer than maxChars");
});

test("fuzz: random token soup and random bytes never throw and never escape", () => {
  const rng = new Rng("coding-fuzz");
  const alphabet = ["x", "1", "23", "+", "-", "*", "=", "<", "?", ":", "(", ")", " ", "y", ";", "\n", "'", "."];
  const before = Object.keys(globalThis).length;
  for (let i = 0; i < 3000; i++) {
    const n = 1 + rng.int(30);
    const src =
      i % 2 === 0
        ? Array.from({ length: n }, () => alphabet[rng.int(alphabet.length)]).join("")
        : String.fromCharCode(...Array.from({ length: n }, () => rng.int(0x3000)));
    const r = runProgram(src, rng.int(20));
    assert.equal(typeof r.ok, "boolean");
    if (r.ok) assert.ok(Number.isInteger(r.value) && Math.abs(r.value) <= LIMITS.maxValue);
  }
  assert.equal(Object.keys(globalThis).length, before, "no global was created");
});
