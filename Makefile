# zsner — every user-facing job is a target here. Each target builds what it lacks, so a fresh
# machine needs only `make train-en` (or `make train-es`) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ZSNER := $(VENV)/bin/zsner
INSTALLED := $(VENV)/.installed
NER_DATA := data/ner/.fetched

.PHONY: setup data test test-slow bench clean help
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -hE '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

setup: $(INSTALLED)  ## create .venv and install zsner with its test extras

$(INSTALLED): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

data: $(NER_DATA)  ## copy (or download) and checksum the gold NER corpora into data/ner

$(NER_DATA): $(INSTALLED) zsner/data/sources.toml
	$(ZSNER) data fetch

test: $(INSTALLED)  ## run the default test suite (what CI runs)
	$(PY) -m pytest -q

test-slow: $(INSTALLED)  ## run the slow tests too
	$(PY) -m pytest -q -m ""

bench: $(INSTALLED) $(NER_DATA)  ## tagger speed: zsner vs a plain Lample-style baseline
	$(PY) bench/bench_tagger.py

train-en: $(INSTALLED) $(NER_DATA)  ## supervised English BiLSTM-CRF on CoNLL-2003 (runs/train-en)
	$(ZSNER) train recipes/en.toml --run-dir runs/train-en

clean:  ## remove runs/ and the fetched gold corpora (keeps .venv, corpora, vectors and dictionaries)
	rm -rf runs data/ner

-include mk/*.mk
