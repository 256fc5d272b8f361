#!/usr/bin/env bash
# gridgov installed into .venv, a virtual environment of its own: a Python that refuses
# `pip install` outside one (PEP 668: Debian's own /usr/bin/python3) takes it there.
# `bash scripts/venv.sh` installs what running needs; `bash scripts/venv.sh test` the tests' too.
# A second run skips pip while pyproject.toml is what was installed (pip's own check took 6 CPU-s and 8 s
# of every test run); delete .venv/.installed-* to force it. PYTHON picks the interpreter (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
spec="."
[ -n "${1:-}" ] && spec=".[$1]"

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    # Debian ships ensurepip, which venv needs, in a package of its own.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "== installing python3-venv (Debian keeps venv's pip apart)" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "$python cannot make a virtual environment: install python3-venv (sudo apt install python3-venv)," \
           "then run this again" >&2
      exit 1
    fi
    "$python" -m venv .venv
  fi
fi
stamp=.venv/.installed-${1:-run}
installed="$spec $(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" = "$installed" ]; then
  echo "== gridgov ($spec) is installed in .venv as pyproject.toml asks" >&2
  exit 0
fi
echo "== installing gridgov ($spec) into .venv" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
echo "$installed" >"$stamp"
