/**
 * Compiles native-gemm.c for this CPU on first use into a cache folder (no install script, no node-gyp: `npm ci` on a
 * machine without a compiler still installs, and the run then says why it uses WebAssembly instead).
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Raised when the kernel cannot be compiled here; the message names the compiler and its first error line. */
export class NativeBuildError extends Error {
  override name = "NativeBuildError";
}

/** Builds of the kernel: the vector width differs, the results do not (native-gemm.c says why). */
export const NATIVE_ISAS = ["avx512", "avx2", "generic"] as const;
export type NativeIsa = (typeof NATIVE_ISAS)[number];

/** Compiler flags per build. -ffp-contract=off is what keeps multiply-then-add from becoming FMA (other bits). */
const ISA_FLAGS: Record<NativeIsa, string[]> = {
  avx512: ["-march=x86-64-v4", "-DMST_ISA_AVX512"],
  avx2: ["-march=x86-64-v3", "-DMST_ISA_AVX2"],
  generic: [],
};
const COMMON_FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-pthread"];

/**
 * The C sources of the one native library: the GEMM and the elementwise ops (src/engine/ops/native-ops.c), as paths
 * under src/ of the package root (package.json's `files` ships them). Found from dist/src/engine/gemm/ (compiled) or
 * from src/engine/gemm/.
 */
const NATIVE_SOURCES = [
  ["engine", "gemm", "native-gemm.c"],
  ["engine", "ops", "native-ops.c"],
] as const;

export function nativeSourcePaths(): string[] {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return NATIVE_SOURCES.map((parts) => {
    const candidates = [join(here, "..", "..", ...parts), join(here, "..", "..", "..", "..", "src", ...parts)];
    const found = candidates.find((p) => existsSync(p));
    if (!found)
      throw new NativeBuildError(`native gemm: source ${parts.at(-1)} not found (looked in ${candidates.join(", ")})`);
    return found;
  });
}

/** CPU flags from /proc/cpuinfo (Linux), empty elsewhere. */
function cpuFlags(): Set<string> {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    return new Set(/^flags\s*:(.*)$/m.exec(info)?.[1].trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** The widest build this CPU runs: AVX-512 (x86-64-v4), AVX2 (x86-64-v3), else 4-lane vectors (NEON, SSE). */
export function detectIsa(): NativeIsa {
  if (process.arch !== "x64") return "generic";
  const f = cpuFlags();
  if (["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].every((x) => f.has(x))) return "avx512";
  if (["avx2", "fma", "bmi2", "movbe"].every((x) => f.has(x))) return "avx2";
  return "generic";
}

/** Which ISAs this CPU can run (tests build every one of them and compare bits). */
export function runnableIsas(): NativeIsa[] {
  const best = detectIsa();
  return NATIVE_ISAS.slice(NATIVE_ISAS.indexOf(best));
}

/** Env MST_NATIVE_CACHE, else $XDG_CACHE_HOME/mst/native, else ~/.cache/mst/native. */
export function nativeCacheDir(): string {
  const env = process.env.MST_NATIVE_CACHE?.trim();
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME?.trim();
  return join(xdg || join(homedir(), ".cache"), "mst", "native");
}

/** The compiler: env CC, else `cc`. */
export function compiler(): string {
  return process.env.CC?.trim() || "cc";
}

export interface NativeBuild {
  /** The shared library. */
  path: string;
  isa: NativeIsa;
  compiler: string;
  /** Whether this call compiled it (false: found in the cache). */
  compiled: boolean;
}

/**
 * The shared library for `isa`, compiled now unless the cache has it. The file name carries a hash of the source,
 * flags, compiler and platform, so an edit or another compiler gets its own build; concurrent processes each write a
 * temporary file and rename it into place (atomic), so none loads a half-written library.
 */
export function buildNative(isa: NativeIsa = detectIsa()): NativeBuild {
  const srcs = nativeSourcePaths();
  const cc = compiler();
  const flags = [...COMMON_FLAGS, ...ISA_FLAGS[isa]];
  const ext = process.platform === "darwin" ? "dylib" : "so";
  const hash = createHash("sha256");
  for (const src of srcs) hash.update(readFileSync(src));
  const key = hash
    .update(JSON.stringify([flags, cc, process.platform, process.arch]))
    .digest("hex")
    .slice(0, 16);
  const dir = nativeCacheDir();
  const path = join(dir, `native-gemm-${isa}-${key}.${ext}`);
  if (existsSync(path)) return { path, isa, compiler: cc, compiled: false };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new NativeBuildError(`native gemm: cannot create the cache folder ${dir}: ${(e as Error).message}`);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    execFileSync(cc, [...flags, "-o", tmp, ...srcs], { stdio: ["ignore", "ignore", "pipe"], timeout: 120_000 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as Error & { stderr?: Buffer; code?: string };
    const detail =
      err.code === "ENOENT"
        ? `compiler ${cc} not found (set CC to a C compiler)`
        : `${cc} failed: ${(err.stderr?.toString() || err.message).trim().split("\n")[0]}`;
    throw new NativeBuildError(`native gemm (${isa}) cannot be built: ${detail}`);
  }
  return { path, isa, compiler: cc, compiled: true };
}
