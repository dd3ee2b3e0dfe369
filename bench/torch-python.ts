/** The benches' PyTorch peer: torch 2.x from the test venv (found as the tests find theirs), and what it runs on. */

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** MST_TORCH_PYTHON, else MST_TEST_PYTHON, else the test venv's python (MST_TEST_VENV or ~/.cache/mst/test-venv). */
export function torchPython(): string {
  const env = process.env.MST_TORCH_PYTHON?.trim() || process.env.MST_TEST_PYTHON?.trim();
  if (env) return env;
  const venv = process.env.MST_TEST_VENV?.trim() || join(homedir(), ".cache", "mst", "test-venv");
  const py = join(venv, "bin", "python");
  return existsSync(py) ? py : "python3";
}

const INFO = `
import torch, re
show = torch.__config__.show()
blas = re.search(r"BLAS_INFO=(\\w+)", show)
mkl = re.search(r"Math Kernel Library Version ([^ ]+)", show)
dnn = re.search(r"MKL-DNN (v[\\d.]+)", show)
parts = [f"torch {torch.__version__}", f"BLAS {blas.group(1) if blas else '?'}" + (f" {mkl.group(1)}" if mkl else "")]
if dnn: parts.append(f"oneDNN {dnn.group(1)}")
parts.append(f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
print(", ".join(parts))
`;

/** One line: torch's version, BLAS (from torch.__config__.show()) and the instruction set it dispatches to. */
export function torchInfo(py: string): string {
  const r = spawnSync(py, ["-c", INFO], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : `no torch in ${py}: ${r.stderr.trim().split("\n").slice(-1)[0]}`;
}
