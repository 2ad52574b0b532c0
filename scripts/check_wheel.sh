#!/usr/bin/env bash
# Wheel check (`make wheel-check`, CI): build the wheel, install it in a fresh virtual
# environment and use it from an empty folder, as a student does after `pip install cjkit`.
#
#   1. build the wheel from a clean copy of the working tree (no build/ or *.egg-info left
#      in the checkout, no stale build/lib leaking into the wheel) and list what it ships;
#   2. a fresh venv in a temporary folder; the wheel installed with -c constraints.txt;
#   3. from an EMPTY folder: `cjkit run --client tiny --out out -q` -> every bundled notebook
#      ok or "not available", none failed, out/index.html written; `cjkit notebooks copy
#      mine` -> the bundled notebooks, byte for byte;
#   4. the kernel: the fresh venv has no "cjkit" kernelspec, so `cjkit run` falls back to
#      "python3"; a probe notebook run the same way proves that kernel is the fresh venv's
#      Python importing the installed wheel (not the dev venv, not the checkout).
#
# Jupyter's per-user folders are pointed into the temporary folder, so a kernelspec
# registered with --user on this machine (say, `make kernel`: "cjkit" -> the dev venv)
# cannot stand in for the fresh one. Exits non-zero on the first failure.
# PY=python3.11 picks the interpreter; KEEP=1 keeps the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$(command -v python3.11 || command -v python3)}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cjkit-wheel-check.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "kept $TMP"' EXIT; else trap 'rm -rf "$TMP"' EXIT; fi
START=$SECONDS

step() { printf '\n== %s\n' "$*"; }
fail() { echo "wheel-check: FAILED: $*" >&2; exit 1; }

step "fresh virtual environment ($("$PY" --version))"
"$PY" -m venv "$TMP/venv"
VPY=$TMP/venv/bin/python
"$VPY" -m pip install -q --disable-pip-version-check --upgrade pip

step "build the wheel"
mkdir -p "$TMP/src" "$TMP/dist"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # tracked and new (not ignored) files, as they are in the working tree
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$TMP/src"
else
  tar --exclude=./.venv --exclude=./build --exclude='*.egg-info' -cf - . | tar -xf - -C "$TMP/src"
fi
"$VPY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$TMP/dist" "$TMP/src"
WHEEL=$(ls "$TMP/dist"/cjkit-*.whl)
"$VPY" - "$WHEEL" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {len(names)} files")
for info in zipfile.ZipFile(sys.argv[1]).infolist():
    if info.filename.startswith("cjkit/_bundle/") and not info.filename.endswith(".py"):
        print(f"  {info.file_size:>10,}  {info.filename}")
EOF

step "install the wheel (-c constraints.txt)"
"$VPY" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" "$WHEEL"

# The fresh venv only: no checkout on the import path, no user site, Jupyter's user folders
# empty; the venv's commands are called by absolute path, PATH is left as it is.
unset PYTHONPATH JUPYTER_PATH JUPYTER_PREFER_ENV_PATH VIRTUAL_ENV
export PYTHONNOUSERSITE=1 JUPYTER_DATA_DIR="$TMP/jupyter/data" JUPYTER_CONFIG_DIR="$TMP/jupyter/config" \
       JUPYTER_RUNTIME_DIR="$TMP/jupyter/runtime" IPYTHONDIR="$TMP/ipython" MPLCONFIGDIR="$TMP/mpl"
CJKIT=$TMP/venv/bin/cjkit
PREFIX=$("$VPY" -c 'import sys; print(sys.prefix)')
mkdir "$TMP/empty"
cd "$TMP/empty"

step "what the installed kit sees (from an empty folder)"
"$VPY" - "$PREFIX" <<'EOF' || fail "the installed cjkit does not find its bundled files in the venv"
import sys
import cjkit
from cjkit import resources
from cjkit.pipeline.notebook import resolve_client
from cjkit.pipeline.run import DEFAULT_GLOB, default_kernel
prefix = sys.argv[1]
print("cjkit:         ", cjkit.__file__)
print("notebooks:     ", ", ".join(p.name for p in resources.notebook_paths()))
print("--notebooks:   ", DEFAULT_GLOB)
for name in ("tiny", "demo"):
    print(f"client {name}:   ", resolve_client(name))
print("kernel:        ", default_kernel())
paths = [cjkit.__file__, DEFAULT_GLOB, resolve_client("tiny"), resolve_client("demo")]
assert all(str(p).startswith(prefix) for p in paths), "outside the fresh venv"
assert resources.notebook_paths(), "no bundled notebooks"
EOF
"$TMP/venv/bin/jupyter" kernelspec list

step "cjkit run --client tiny --out out -q"
T0=$SECONDS
"$CJKIT" run --client tiny --out out -q || fail "cjkit run exited with $?"
echo "($((SECONDS - T0)) s)"
"$VPY" - <<'EOF' || fail "out/results.json"
import json
from pathlib import Path
from cjkit.resources import notebook_paths
expected = [p.stem for p in notebook_paths()]
status = {row["notebook"]: row["status"] for row in json.loads(Path("out/results.json").read_text())["notebooks"]}
for name in expected:
    print(f"  {name}: {status.get(name, 'MISSING')}")
assert sorted(status) == sorted(expected), f"results.json lists {sorted(status)}, bundled: {expected}"
bad = {n: s for n, s in status.items() if s not in ("ok", "not available")}
assert not bad, f"notebooks not ok: {bad}"
assert Path("out/index.html").is_file(), "no out/index.html"
print(f"  out/index.html: {Path('out/index.html').stat().st_size:,} bytes")
EOF

step "the kernel is the fresh venv's Python"
mkdir "$TMP/probe"
"$VPY" - "$TMP/probe/99_probe.ipynb" <<'EOF'
import sys
import nbformat
import nbformat.v4 as v4
nb = v4.new_notebook(cells=[
    v4.new_code_cell('# Parameters (cjkit)\nclient: str = "tiny"  # client', metadata={"tags": ["parameters"]}),
    v4.new_code_cell("import json, sys, cjkit\n"
                     "json.dump({'prefix': sys.prefix, 'executable': sys.executable, 'cjkit': cjkit.__file__},\n"
                     "          open('kernel.json', 'w'))"),
])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1])
EOF
"$CJKIT" run --client tiny --notebooks "$TMP/probe/99_probe.ipynb" --out "$TMP/probe-out" -q >/dev/null \
  || fail "the probe notebook did not run"
"$VPY" - "$PREFIX" "$TMP/probe/kernel.json" <<'EOF' || fail "the kernel is not the fresh venv's Python"
import json, os, sys
prefix, seen = sys.argv[1], json.load(open(sys.argv[2]))
for key, value in seen.items():
    print(f"  kernel {key}: {value}")
assert os.path.realpath(seen["prefix"]) == os.path.realpath(prefix), f"kernel prefix {seen['prefix']} != {prefix}"
assert seen["cjkit"].startswith(prefix), "the kernel imported cjkit from outside the fresh venv"
EOF

step "cjkit notebooks copy mine"
"$CJKIT" notebooks copy mine || fail "cjkit notebooks copy exited with $?"
"$VPY" - <<'EOF' || fail "the copied notebooks"
from pathlib import Path
from cjkit.resources import notebook_paths
bundled = notebook_paths()
copied = sorted(Path("mine").iterdir())
assert [p.name for p in copied] == [p.name for p in bundled], f"copied {[p.name for p in copied]}"
assert all(c.read_bytes() == b.read_bytes() for c, b in zip(copied, bundled)), "copies differ"
print(f"  {len(copied)} notebooks in mine/, identical to the bundled ones")
EOF
RC=0; "$CJKIT" notebooks copy mine >/dev/null 2>&1 || RC=$?
[ "$RC" = 2 ] || fail "a second copy into mine/ without --force exited with $RC, not 2"

step "wheel check passed in $((SECONDS - START)) s"
