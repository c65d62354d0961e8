# The two commands of the book: `make book` and `make test` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
# nbval over the chapters: outputs of cells marked NBVAL_CHECK_OUTPUT must come out again.
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Two workers (one notebook each at a time), one torch thread each: this machine has two cores.
JOBS ?= 2

.PHONY: setup book test unit notebooks browser execute full clean

$(STAMP): requirements.txt constraints.txt pyproject.toml scripts/setup.sh scripts/vendor_js.sh
	VENV=$(VENV) bash scripts/setup.sh
	touch $@

setup: $(STAMP)

book: setup  ## build the HTML book from the stored notebook outputs into _build/html
	$(VENV)/bin/jupyter-book build . --builder html --warningiserror --nitpick --keep-going

test: setup  ## everything: unit tests, nbval over every chapter, the browser test of the built book
	bash scripts/install_browser.sh
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL) tests chapters

unit: setup  ## only the unit tests of cvlib
	$(PY) -m pytest tests --ignore=tests/test_book.py

notebooks: setup  ## only nbval over the chapters
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL) chapters

browser: setup  ## only the browser test (builds the book)
	bash scripts/install_browser.sh
	$(PY) -m pytest tests/test_book.py

execute: setup  ## re-execute every chapter on the quick profile and store its outputs (what the book shows)
	$(PY) scripts/execute.py

# `make full`: every chapter (or CHAPTERS=...) on the full profile, on the GPU where there is one, into
# FULL_OUT (the committed notebooks are not touched); headline numbers and times in RESULTS.
FULL_OUT ?= _full
DEVICE = $(shell $(PY) -c "from cvlib import runtime; print(runtime.device().type)" 2>/dev/null || echo cpu)
RESULTS ?= results/full-$(DEVICE).json
full: setup  ## every chapter on the full profile into _full/, results in results/full-<device>.json
	CVLIB_PROFILE=$${CVLIB_PROFILE:-full} $(PY) scripts/execute.py --out $(FULL_OUT) --results $(RESULTS) $(CHAPTERS)

clean:
	rm -rf _build
