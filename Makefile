# The two commands of the book: `make book` and `make test` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

.PHONY: setup book test unit notebooks browser execute clean

$(STAMP): requirements.txt pyproject.toml scripts/setup.sh scripts/vendor_js.sh
	VENV=$(VENV) bash scripts/setup.sh
	touch $@

setup: $(STAMP)

book: setup  ## build the HTML book from the stored notebook outputs into _build/html
	$(PY) -m jupyter_book.cli.main build . --builder html --warningiserror --nitpick --keep-going

test: setup  ## unit tests, nbval over every chapter, the browser test of the built book
	WITH_BROWSER=1 VENV=$(VENV) bash scripts/setup.sh >/dev/null
	$(PY) -m pytest tests -q

unit: setup  ## only the unit tests of cvlib
	$(PY) -m pytest tests -q -m "not notebooks and not browser"

execute: setup  ## re-execute every chapter (quick profile) and store its outputs
	$(PY) scripts/execute.py

clean:
	rm -rf _build
