# One-command entry points. Each target builds the virtual environment it needs first,
# so on a machine with only Python 3.11, `make demo` and `make test` are all there is.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.cjkit-installed
JOBS    ?= 2

.PHONY: venv demo test lint wheel-check exercises exercises-check lab kernel tools browser bench peers references lock clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name cjkit --display-name "Python (cjkit)" >/dev/null
	@# nbgrader is here for its ClearSolutions (cjkit exercises build) only: its Jupyter UI stays off
	for m in formgrader validate_assignment assignment_list course_list; do \
	  $(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$m >/dev/null 2>&1; done
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	touch $@

## every notebook on the bundled demo client -> reports/demo/index.html
demo: venv
	$(BIN)/cjkit run --client datasets/demo/client.yaml --out reports/demo --jobs $(JOBS)

## the whole test suite (unit tests, doctests, notebooks, CLI, headless browser)
test: venv
	$(BIN)/python -m pytest -n $(JOBS) -q

## the wheel as a student gets it: build, install in a fresh venv, run from an empty folder
wheel-check:
	PY=$(PY) scripts/check_wheel.sh

## exercises/ rebuilt from solutions/ (answers stripped); exercises-check: fail if they differ
exercises: venv
	$(BIN)/cjkit exercises build --solutions solutions --out exercises
exercises-check: venv
	$(BIN)/cjkit exercises build --solutions solutions --out exercises --check

## static checks (ruff: pyflakes, bugbear, pyupgrade), as CI runs them
lint: venv
	$(BIN)/ruff check cjkit tests benchmarks

## JupyterLab in the kit's environment (kernel "Python (cjkit)"); as root (containers, CI
## images) it adds --allow-root, which Jupyter otherwise demands. LAB_ARGS: extra options.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: venv
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

## register the kit's kernel for the current user too, for a Jupyter installed elsewhere
kernel: venv
	$(BIN)/python -m ipykernel install --user --name cjkit --display-name "Python (cjkit)"

## Debian's packages the tests drive (needs root or sudo): Chromium + chromedriver for the
## browser tests, bubblewrap for the grader's sandbox. `make browser` is the old name.
tools:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v bwrap >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver bubblewrap >/dev/null; }
browser: tools

bench: venv peers
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_start.py --markdown
	$(BIN)/python benchmarks/bench_funnel.py
	$(BIN)/python benchmarks/bench_rfm.py
	$(BIN)/python benchmarks/bench_clv.py --markdown
	$(BIN)/python benchmarks/bench_nps.py --markdown
	$(BIN)/python benchmarks/bench_attribution.py --markdown

## the peers the benchmarks and reference scripts compare with, in their own venv: lifetimes
## 0.11.3 and ChannelAttribution 2.2.5 (compiled from source, minutes) need numpy 1 / pandas 2.1
PEERS := .venv-peers
peers: $(PEERS)/.installed
$(PEERS)/.installed:
	$(PY) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q "numpy==1.26.4" "pandas==2.1.4" "scipy==1.12.0" "autograd==1.9.1" \
	  "matplotlib==3.11.2" "Cython==3.3.1" setuptools wheel
	$(PEERS)/bin/python -m pip install -q "Lifetimes==0.11.3" "ChannelAttribution==2.2.5"
	touch $@

## reference outputs of the peers that tests compare with (tests/fixtures/); needs `make peers`
references: peers
	$(PEERS)/bin/python benchmarks/compare_lifetimes_summary.py
	$(PEERS)/bin/python benchmarks/compare_lifetimes_clv.py
	$(PEERS)/bin/python benchmarks/attribution_reference.py

## re-pin constraints.txt from a fresh resolve (run after changing dependencies)
lock:
	rm -rf /tmp/cjkit-lock && $(PY) -m venv /tmp/cjkit-lock
	/tmp/cjkit-lock/bin/python -m pip install -q --upgrade pip
	/tmp/cjkit-lock/bin/python -m pip install -q -e '.[dev,bench]'
	/tmp/cjkit-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) reports
