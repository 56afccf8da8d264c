# The two commands a new user runs: `make demo` and `make test`.
# Each does its own set-up: Debian packages only when missing, then a .venv
# with the pinned dependencies of pyproject.toml (rebuilt when it changes).

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
	fonts-ocr-b fonts-arphic-ukai fonts-arphic-uming prometheus chromium faketime

.PHONY: demo test test-fast bench screenshots setup apt clean

demo: setup
	$(VENV)/bin/factory demo

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) -m pytest benchmarks --benchmark-enable --benchmark-autosave

screenshots: setup
	FACTORY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/panel/test_browser.py

setup: apt $(STAMP)

apt:
	@scripts/ensure-apt $(APT_PACKAGES)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks build *.egg-info
