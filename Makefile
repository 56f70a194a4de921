# `make data` and `make test` each set up everything they need on a fresh machine
# (Python 3.11, pip and make): a virtual environment in .venv with pinned versions.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: data check serve test validate check-release release verify clean

$(STAMP): pyproject.toml constraints.txt VERSION
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $(STAMP)

data: $(STAMP)  ## validate the annotations and publish data/, datapackage.json and the generated docs
	$(BIN)/python build.py

check: $(STAMP)  ## validate everything, write nothing
	$(BIN)/python build.py --check

serve: $(STAMP)  ## keep the libraries imported for later checks and builds (build.py serve; Ctrl-C stops it)
	$(BIN)/python build.py serve

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest -q

validate: $(STAMP)  ## the official Frictionless validator on the published package
	$(BIN)/frictionless validate datapackage.json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .build-staging .cache

check-release: $(STAMP)  ## refuse a release that drops or reuses an ID, or whose VERSION/CHANGELOG lag its changes
	$(BIN)/python build.py diff --check-release

release: check-release  ## build afresh and write dist/<name>-<version>.zip: refused unless data/ is current (make data, commit)
	$(BIN)/python -m noncoop.release build

verify: $(STAMP)  ## verify a release: make verify RELEASE=dist/<name>-<version>.zip (or an unpacked folder)
	$(BIN)/python -m noncoop.release verify $(RELEASE)
