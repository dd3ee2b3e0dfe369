/**
 * The rule both servers (`mst serve`, `mst serve-reward`) apply to --host: listening beyond this machine without a
 * key is refused, since anyone on the network could then use the models or the reward (only /health stays open).
 */
import { InvalidArgumentError } from "commander";

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Throws a usage error (exit 2) for a non-loopback host without a key, unless the user said so explicitly. */
export function checkExposure(host: string, hasKey: boolean, allowOpen: boolean): void {
  if (hasKey || allowOpen || isLoopbackHost(host)) return;
  throw new InvalidArgumentError(
    `--host ${host} listens beyond this machine without a key: anyone who can reach it may use it; ` +
      "add --api-key-env NAME (every endpoint but /health then needs the key), or --no-key-on-network if that is meant",
  );
}
