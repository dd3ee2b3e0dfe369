#!/usr/bin/env bash
# Builds the Python venv the border tests run against (real torch, transformers, peft, trl, datasets, pyarrow,
# tensorboard, openai; pinned in test/python/requirements.txt). Also what a user runs to hand mst's exports to the
# same libraries. Location: $MST_TEST_VENV, default ~/.cache/mst/test-venv (outside the source tree, shared by
# checkouts). Idempotent: a venv whose requirements stamp matches is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MST_TEST_VENV:-$HOME/.cache/mst/test-venv}"
req=test/python/requirements.txt
stamp="$venv/.mst-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  echo "test venv up to date: $venv"
  exit 0
fi
py="${PYTHON:-python3}"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  echo "scripts/test-venv.sh: Python >= 3.10 is required ($py is $("$py" --version 2>&1))" >&2
  exit 1
}
mkdir -p "$(dirname "$venv")"
"$py" -m venv "$venv" || {
  echo "scripts/test-venv.sh: '$py -m venv' failed (on Debian: apt-get install python3-venv)" >&2
  exit 1
}
# --retries 0: an index that cannot be reached is skipped at once instead of retried with back-off
"$venv/bin/pip" install --retries 0 --quiet -r "$req"
cp "$req" "$stamp"
echo "test venv ready: $venv ($("$venv/bin/python" --version))"
