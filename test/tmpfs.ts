/** A small tmpfs mounted for one test, to produce a real full disk (ENOSPC); only possible when the tests run as root. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { missingMessage, systemDepsRequired } from "./system-deps.js";

const isRoot = process.getuid?.() === 0;
/** Runs mount/umount as root: directly when the tests are root, else (only under CI) through passwordless sudo. */
function asRoot(args: string[]): { ok: boolean; why: string } {
  const [cmd, argv] = isRoot ? [args[0], args.slice(1)] : ["sudo", ["-n", ...args]];
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return { ok: r.status === 0, why: (r.stderr || String(r.error ?? "")).trim() };
}

/**
 * Mounts a tmpfs of `size` (e.g. "96k") on a fresh folder and unmounts it when `t` ends; returns the folder, or null
 * after `t.skip` when it cannot be mounted. Tried as root; other users skip, except under MST_REQUIRE_SYSTEM_DEPS=1
 * (CI), where it is tried through `sudo -n` and a failed mount fails the test.
 */
export function mountTmpfs(t: TestContext, size: string): string | null {
  if (!isRoot && !systemDepsRequired) {
    t.skip("needs a tmpfs for a full disk: run the tests as root");
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), "mst-tmpfs-"));
  const r = asRoot(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  if (!r.ok) {
    rmSync(dir, { recursive: true, force: true });
    if (systemDepsRequired) throw new Error(missingMessage(`way to mount a tmpfs (mount failed: ${r.why})`));
    t.skip(`needs a tmpfs for a full disk (mount failed: ${r.why})`);
    return null;
  }
  t.after(() => {
    asRoot(["umount", "-l", dir]); // lazy: a file a failed test left open must not keep the mount busy
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Grows the tmpfs at `dir` to `size` (a later resume finds room again). */
export function resizeTmpfs(dir: string, size: string): void {
  const r = asRoot(["mount", "-o", `remount,size=${size}`, dir]);
  if (!r.ok) throw new Error(`remount ${dir} failed: ${r.why}`);
}
