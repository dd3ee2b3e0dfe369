/**
 * What `mst export` checks before it writes: the output folder (the rules of `mst arms` and `mst run`: a non-empty
 * folder only with --force, and never where the spec itself lives) and the reward URL its recipes will call.
 */
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { canonicalPath, withPath } from "../data/fs-errors.js";

/** Bad input to `mst export` (an output folder that would lose data, a reward URL that is not one); names the path. */
export class ExportInputError extends Error {
  override name = "ExportInputError";
}

/** Whether `path` is `dir` or lies under it (after resolving symlinks and `..`). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(canonicalPath(dir), canonicalPath(path));
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !rel.startsWith(sep));
}

/**
 * Refuses an output folder that would lose data: a file, a non-empty folder without `force`, and (even with `force`)
 * a folder that holds the spec being exported, whose name export may write (a spec saved as manifest.json or run.sh)
 * and whose neighbours it replaces. With `force`, the old manifest.json goes first, so an export cut off half way is
 * never vouched for by the previous one's manifest (`mst import` reads it).
 */
export function prepareExportOut(out: string, specFile: string, force: boolean, manifestName: string): void {
  if (!existsSync(out)) return;
  if (!withPath(out, "use as output folder", () => statSync(out)).isDirectory())
    throw new ExportInputError(`${out}: is a file, not a folder; --out names the folder the export is written to`);
  const entries = withPath(out, "read output folder", () => readdirSync(out));
  if (entries.length === 0) return;
  if (!force)
    throw new ExportInputError(
      `${out}: output folder is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}); ` +
        "pass --force to replace the exported files in it, or choose an empty folder",
    );
  if (isInside(specFile, out))
    throw new ExportInputError(
      `${out}: holds the spec being exported (${specFile}); export would write over it: choose another --out (nothing was written)`,
    );
  withPath(out, "remove old manifest", () => rmSync(`${out}/${manifestName}`, { force: true }));
}

/** An http(s) URL with a host, or ExportInputError naming the flag: a recipe with a bad URL fails only on the cluster. */
export function checkRewardUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ExportInputError(
      `--reward-url ${JSON.stringify(url)}: not a URL (e.g. http://127.0.0.1:5000/get_reward)`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new ExportInputError(`--reward-url ${JSON.stringify(url)}: must be http:// or https://, not ${u.protocol}`);
  return url;
}
