/** Plug-in task modules: paths resolved and stored absolute, `task` or default export, one-line errors naming the file. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { TaskModuleError, isTaskPath, loadTask, taskRefOf } from "../../src/run/task-module.js";
import { getTask } from "../../src/tasks/registry.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const root = mkdtempSync(join(tmpdir(), "mst-plugin-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Writes a module into the temp folder and returns its absolute path. */
function module(name: string, text: string): string {
  const file = join(root, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const toyUrl = pathToFileURL(TOY_TASK).href;

test("names and paths: a reference with a separator or a .js extension is a path, stored absolute", () => {
  assert.equal(isTaskPath("sycophancy"), false);
  assert.equal(isTaskPath("./task.js"), true);
  assert.equal(isTaskPath("task.mjs"), true);
  assert.equal(isTaskPath("tasks/mine"), true);
  assert.equal(taskRefOf("sycophancy", "/x"), "sycophancy");
  assert.equal(taskRefOf("./a/task.js", "/x"), "/x/a/task.js");
  assert.equal(taskRefOf("/abs/task.js", "/x"), "/abs/task.js");
});

test("a registered name loads the shipped task; the toy simulation is not registered", async () => {
  assert.equal(await loadTask("sycophancy"), getTask("sycophancy"));
  await assert.rejects(loadTask("toy"), /unknown task "toy"/);
});

test("the named export `task` or the default export is the task", async () => {
  const named = module("named/task.mjs", `export { task } from ${JSON.stringify(toyUrl)};\n`);
  const dflt = module("default/task.mjs", `import { task } from ${JSON.stringify(toyUrl)};\nexport default task;\n`);
  const toy = await loadTask(TOY_TASK);
  assert.equal(toy.name, "toy");
  assert.equal(await loadTask(named), toy);
  assert.equal(await loadTask(dflt), toy);
});

test("a spec's task path is relative to the spec file, the command line's to the cwd; both are stored absolute", async () => {
  const file = module("plugin-dir/task.mjs", `export { task } from ${JSON.stringify(toyUrl)};\n`);
  mkdirSync(join(root, "specs"), { recursive: true });
  const spec = join(root, "specs", "exp.yaml");
  writeFileSync(spec, "task: ../plugin-dir/task.mjs\npreset: quick\nseeds: [0]\n");
  const fromSpec = await resolveSpec({ spec: loadSpecFile(spec) });
  assert.equal(fromSpec.resolved.task, file);
  assert.equal(fromSpec.task.name, "toy");
  const fromCli = await resolveSpec({ task: relative(process.cwd(), file) });
  assert.equal(fromCli.resolved.task, file);
  // the same module named both ways is no conflict
  const both = await resolveSpec({ task: relative(process.cwd(), file), spec: loadSpecFile(spec) });
  assert.equal(both.resolved.task, file);
});

test("modules that are not tasks fail with one line naming the file", async () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "none.mjs",
      "export const x = 1;\n",
      /exports no task: export the Task as `export default` or as `export const task`/,
    ],
    [
      "object.mjs",
      'export default { name: "x", title: "t" };\n',
      /not an mst Task: "description" .*defineExperiment from "monitor-sensitive-training\/experiment"/,
    ],
    [
      "plan.mjs",
      `import { task as t } from ${JSON.stringify(toyUrl)};\nexport const task = { ...t, plan: 3 };\n`,
      /not an mst Task: "plan" must be a function/,
    ],
    [
      "preset.mjs",
      `import { task as t } from ${JSON.stringify(toyUrl)};\nexport const task = { ...t, defaultPreset: "big" };\n`,
      /defaultPreset "big" is not one of its presets/,
    ],
    ["syntax.mjs", "export const task = {;\n", /cannot load the task module: /],
    ["throws.mjs", 'throw new Error("no GPU here");\n', /cannot load the task module: no GPU here/],
  ];
  for (const [name, text, re] of cases) {
    const file = module(`bad/${name}`, text);
    await assert.rejects(loadTask(file), (e: unknown) => {
      assert.ok(e instanceof TaskModuleError, `${name}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, re);
      assert.equal(e.message.split("\n").length, 1, `${name}: one line`);
      return true;
    });
  }
  const missing = join(root, "missing", "task.js");
  await assert.rejects(loadTask(missing), (e: Error) => e.message === `${missing}: no such task module`);
  // through a spec: the module's own error (it names the module's file), not a spec error
  const spec = join(root, "bad-spec.yaml");
  writeFileSync(spec, "task: ./bad/none.mjs\n");
  await assert.rejects(resolveSpec({ spec: loadSpecFile(spec) }), TaskModuleError);
});

test("every example plug-in under examples/tasks loads (its `monitor-sensitive-training/experiment` import resolves to this package)", async () => {
  const dir = fileURLToPath(new URL("../../../examples/tasks", import.meta.url));
  for (const name of readdirSync(dir)) {
    const task = await loadTask(join(dir, name, "task.js"));
    assert.equal(task.name, name, "an example's folder is named after its task");
    const config = task.configSchema.parse(task.presets[task.defaultPreset]);
    assert.ok(task.plan(config, { arms: task.arms.default, ...task.defaultSeeds }).length > 0);
  }
});
