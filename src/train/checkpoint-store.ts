/**
 * Trainer checkpoints on disk: trainable parameters, optimizer state, RNG state and progress, written atomically
 * (temp directory + rename, then a `latest.json` pointer replaced by rename) so a crash mid-write never damages the
 * last good checkpoint. Layout: `<outDir>/checkpoints/step-000040/{state.json,tensors.bin}` + `latest.json`.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { makeDir, withPath, writeFully } from "../data/fs-errors.js";
import { writeFileAtomic } from "../data/jsonl-write.js";
import type { Param } from "../engine/model-api.js";
import { TrainCheckpointError } from "./errors.js";

export const TRAIN_CHECKPOINT_FORMAT = "mst-train-checkpoint/1";

/** What a trainer saves besides tensors: free-form JSON (step, RNG state, data position, config echo...). */
export type TrainerMeta = Record<string, unknown>;

/** A JSON tree whose Float32Array leaves travel in the binary file (e.g. an optimizer's `stateDict()`). */
export type Packable = unknown;

const StateFileSchema = z.looseObject({
  format: z.string(),
  step: z.number().int().nonnegative(),
  params: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int()), offset: z.number().int() })),
  optimizer: z.unknown(),
  meta: z.record(z.string(), z.unknown()),
});

const LatestSchema = z.strictObject({ format: z.string(), step: z.number().int(), dir: z.string() });

/** Replaces every Float32Array in `value` by `{ $f32: [offset, length] }`, appending its bytes to `chunks`. */
function pack(value: Packable, chunks: Float32Array[], at: { n: number }): unknown {
  if (value instanceof Float32Array) {
    const ref = { $f32: [at.n, value.length] };
    chunks.push(value);
    at.n += value.length;
    return ref;
  }
  if (ArrayBuffer.isView(value)) throw new Error("checkpoint: only Float32Array tensors can be stored");
  if (Array.isArray(value)) return value.map((v) => pack(v, chunks, at));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = pack(v, chunks, at);
    return out;
  }
  return value;
}

function unpack(value: unknown, data: Float32Array): unknown {
  if (Array.isArray(value)) return value.map((v) => unpack(v, data));
  if (value !== null && typeof value === "object") {
    const ref = (value as { $f32?: unknown }).$f32;
    if (Array.isArray(ref) && ref.length === 2)
      return data.slice(ref[0] as number, (ref[0] as number) + (ref[1] as number));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = unpack(v, data);
    return out;
  }
  return value;
}

function stepDirName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** Saves and restores checkpoints under `<outDir>/checkpoints`, keeping the newest `keep` of them. */
export class CheckpointStore {
  readonly root: string;
  constructor(
    outDir: string,
    private readonly keep = 2,
  ) {
    this.root = join(outDir, "checkpoints");
  }

  /** The directory of the newest complete checkpoint, or null. */
  latest(): { step: number; dir: string } | null {
    const file = join(this.root, "latest.json");
    if (!existsSync(file)) return null;
    const r = LatestSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!r.success || r.data.format !== TRAIN_CHECKPOINT_FORMAT)
      throw new TrainCheckpointError(file, `not a ${TRAIN_CHECKPOINT_FORMAT} pointer; delete it to start afresh`);
    return { step: r.data.step, dir: join(this.root, r.data.dir) };
  }

  /**
   * Writes a checkpoint for `step` atomically and points `latest.json` at it; returns its directory. A failure (a full
   * disk) names the file and removes the half-written temp directory; `latest.json` still names the last good one.
   */
  save(step: number, params: readonly Param[], optimizer: Packable, meta: TrainerMeta): string {
    makeDir(this.root, "create checkpoint folder");
    const name = stepDirName(step);
    const final = join(this.root, name);
    const tmp = join(this.root, `${name}.tmp-${process.pid}`);
    // half-written checkpoints of a crashed process never became `latest`: clear them (one writer per outDir)
    for (const d of readdirSync(this.root))
      if (/^step-\d+\.tmp-\d+$/.test(d)) rmSync(join(this.root, d), { recursive: true, force: true });
    try {
      withPath(tmp, "create checkpoint folder", () => mkdirSync(tmp));
      const chunks: Float32Array[] = [];
      const at = { n: 0 };
      const paramIndex = params.map((p) => {
        const entry = { name: p.name, shape: [...p.shape], offset: at.n };
        chunks.push(p.data);
        at.n += p.data.length;
        return entry;
      });
      const optPacked = pack(optimizer, chunks, at);
      const state = { format: TRAIN_CHECKPOINT_FORMAT, step, params: paramIndex, optimizer: optPacked, meta };
      const tensors = join(tmp, "tensors.bin");
      withPath(tensors, "write", () => {
        const fd = openSync(tensors, "w");
        try {
          for (const c of chunks) writeFully(fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      });
      writeFileAtomic(join(tmp, "state.json"), JSON.stringify(state));
      withPath(final, "write checkpoint", () => {
        rmSync(final, { recursive: true, force: true });
        renameSync(tmp, final);
      });
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    writeFileAtomic(
      join(this.root, "latest.json"),
      JSON.stringify({ format: TRAIN_CHECKPOINT_FORMAT, step, dir: name }),
    );
    this.prune(step);
    return final;
  }

  /** Deletes older checkpoints beyond `keep` (never the newest). */
  private prune(newest: number): void {
    if (this.keep <= 0) return;
    const steps = readdirSync(this.root)
      .map((d) => /^step-(\d+)$/.exec(d))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((s) => s <= newest)
      .sort((a, b) => b - a);
    for (const s of steps.slice(this.keep)) rmSync(join(this.root, stepDirName(s)), { recursive: true, force: true });
  }

  /**
   * Loads a checkpoint directory into `params` (matched by name and shape; every saved tensor must find its
   * parameter) and returns the step, the optimizer state (Float32Arrays restored) and the trainer meta.
   */
  load(dir: string, params: readonly Param[]): { step: number; optimizer: unknown; meta: TrainerMeta } {
    const stateFile = join(dir, "state.json");
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(stateFile, "utf8"));
    } catch (e) {
      throw new TrainCheckpointError(stateFile, `cannot read checkpoint state: ${(e as Error).message}`);
    }
    const r = StateFileSchema.safeParse(raw);
    if (!r.success || r.data.format !== TRAIN_CHECKPOINT_FORMAT)
      throw new TrainCheckpointError(stateFile, `not a ${TRAIN_CHECKPOINT_FORMAT} checkpoint`);
    const buf = readFileSync(join(dir, "tensors.bin"));
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const byName = new Map(params.map((p) => [p.name, p]));
    for (const e of r.data.params) {
      const p = byName.get(e.name);
      if (!p) throw new TrainCheckpointError(stateFile, `parameter "${e.name}" is not trainable in this model`);
      if (p.shape.join("x") !== e.shape.join("x"))
        throw new TrainCheckpointError(
          stateFile,
          `parameter "${e.name}" has shape [${e.shape}] in the checkpoint but [${p.shape}] in the model`,
        );
      p.data.set(data.subarray(e.offset, e.offset + p.data.length));
    }
    if (r.data.params.length !== params.length)
      throw new TrainCheckpointError(
        stateFile,
        `checkpoint holds ${r.data.params.length} trainable tensors but the model has ${params.length}`,
      );
    return { step: r.data.step, optimizer: unpack(r.data.optimizer, data), meta: r.data.meta };
  }
}
