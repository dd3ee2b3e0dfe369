/**
 * A one-node SLURM cluster on this machine for the slurm executor's tests: munged, slurmctld and slurmd from Debian's
 * munge and slurm-wlm, each in the foreground as a child of the test, with key, config, state and logs in a temporary
 * folder. No cgroups (proctrack/linuxproc, task/none), no accounting database; `stop()` leaves nothing running.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { missingMessage, systemDepsRequired } from "../system-deps.js";

const DAEMONS = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo"];

function which(cmd: string): boolean {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", ...(process.env.PATH ?? "").split(":")]) {
    if (spawnSync("test", ["-x", join(dir, cmd)]).status === 0) return true;
  }
  return false;
}

/**
 * A `skip` option for node:test: false when SLURM and munge are installed, else the reason. Under
 * MST_REQUIRE_SYSTEM_DEPS=1 (.ci/run installed them) a missing one throws instead of skipping.
 */
export function skipUnlessSlurm(): false | string {
  const missing = DAEMONS.filter((d) => !which(d));
  if (missing.length === 0) return false;
  const what = `SLURM/munge (${missing.join(", ")}; apt-get install slurm-wlm munge)`;
  if (systemDepsRequired) throw new Error(missingMessage(what));
  return `no ${what}`;
}

/** A free TCP port on loopback (closed again before the daemon binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface SlurmCluster {
  dir: string;
  /** The slurm.conf the client commands must see (SLURM_CONF). */
  conf: string;
  /** Environment for the client commands and for `mst run`. */
  env: NodeJS.ProcessEnv;
  /** Runs a client command (squeue, scontrol, ...) against this cluster; returns stdout. */
  cmd(name: string, args: string[]): string;
  /** Cancels every job, stops the daemons and removes the folder. */
  stop(): Promise<void>;
}

/** Slots the test node offers: more than the cores, so the toy jobs (mostly sleeping) run side by side. */
const NODE_CPUS = 8;

/** Starts the cluster and waits until its node is idle (a few seconds). */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), "mst-slurm-"));
  // munged refuses a socket folder others can write; the key must be readable by its owner only
  chmodSync(dir, 0o755);
  for (const d of ["munge", "state", "spool"]) mkdirSync(join(dir, d), { mode: 0o755 });
  const key = join(dir, "munge", "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const socket = join(dir, "munge", "munge.socket");
  const user = userInfo().username;
  const node = hostname();
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=mst-test",
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `SlurmUser=${user}`,
      `SlurmdUser=${user}`,
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "slurmd.log")}`,
      // no cgroups: the tests run in containers and on machines where slurmd cannot own a cgroup tree
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "JobCompType=jobcomp/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "SchedulerType=sched/backfill",
      "MpiDefault=none",
      "ReturnToService=2",
      "KillWait=2",
      // finished jobs stay visible to squeue for the whole test (the executor reads their end state there)
      "MinJobAge=3600",
      // the node offers more CPUs than the machine has (the toy jobs mostly wait): accept the configured count
      "SlurmdParameters=config_overrides",
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${NODE_CPUS} RealMemory=4000 State=UNKNOWN`,
      "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr?.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    children.push(child);
    return () => err;
  };
  const cmd = (name: string, args: string[]): string => {
    const r = spawnSync(name, args, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${name} ${args.join(" ")}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  const stop = async () => {
    try {
      spawnSync("scancel", ["--user", user], { env });
    } catch {
      // no cluster to ask: the daemons below are stopped anyway
    }
    for (const c of children.reverse()) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    const deadline = Date.now() + 10_000;
    while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline)
      await sleep(100);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const mungeErr = start("munged", [
      "--foreground",
      "--force",
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, "munge", "munged.pid")}`,
      `--log-file=${join(dir, "munge", "munged.log")}`,
      `--seed-file=${join(dir, "munge", "munged.seed")}`,
    ]);
    await waitFor(
      () => spawnSync("test", ["-S", socket]).status === 0,
      10_000,
      () => `munged did not start: ${mungeErr()}`,
    );
    const ctldErr = start("slurmctld", ["-D", "-i", "-f", conf]);
    await waitFor(
      () => spawnSync("scontrol", ["ping"], { env, encoding: "utf8" }).stdout?.includes("UP") ?? false,
      20_000,
      () => `slurmctld did not start: ${ctldErr()} ${tail(join(dir, "slurmctld.log"))}`,
    );
    const slurmdErr = start("slurmd", ["-D", "-N", node, "-f", conf]);
    await waitFor(
      () => /idle/.test(spawnSync("sinfo", ["--noheader", "--format=%T"], { env, encoding: "utf8" }).stdout ?? ""),
      30_000,
      () => `slurmd did not register: ${slurmdErr()} ${tail(join(dir, "slurmd.log"))}`,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, conf, env, cmd, stop };
}

async function waitFor(ok: () => boolean, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(why());
    await sleep(200);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-5).join(" | ");
  } catch {
    return "";
  }
}
