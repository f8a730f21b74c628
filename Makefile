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
	@grep -hE '^[a-zA-Z0-9%_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

setup: $(INSTALLED) $(if $(GPU),$(VENV)/.installed-gpu)  ## create .venv and install zsner with its test extras (GPU=1: CUDA builds too)

# GPU=1 (`make setup GPU=1`), for a machine with an NVIDIA GPU: PyPI's own torch 2.13.0 for Linux (built for CUDA 13:
# it needs an NVIDIA driver >= 580) and faiss-gpu-cu12 replace the CPU builds in the venv; the code uses them when
# it sees a GPU (zsner map, distill and transfer pick cuda by default) and falls back to the CPU when it does not.
# `===` asks for exactly the public release, so a local `2.13.0+cpu` wheel (a pip find-links folder) cannot stand in
# for it; both come from PyPI, the one index these machines reach. A driver older than 580 needs a CUDA 12 build
# from PyTorch's index, where that is reachable:
#   make setup GPU=1 GPU_TORCH='torch==2.13.0+cu128 --extra-index-url https://download.pytorch.org/whl/cu128'
# Run it again after anything reinstalls the CPU builds (a changed setup.cfg): rm .venv/.installed-gpu.
GPU ?=
GPU_TORCH ?= torch===2.13.0
$(VENV)/.installed-gpu: | $(INSTALLED)
	$(PY) -m pip uninstall -q -y faiss-cpu
	$(PY) -m pip install -q faiss-gpu-cu12 $(GPU_TORCH)
	$(PY) -c "import torch, faiss; print('torch', torch.__version__, '| CUDA device:', torch.cuda.is_available(), '| faiss GPUs:', faiss.get_num_gpus())"
	touch $@

$(INSTALLED): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

data: $(NER_DATA)  ## copy (or download) and checksum the gold NER corpora into data/ner

# Order-only on the venv: reinstalling it (an edited setup.cfg) must not make every gold file, and so every
# corpus, vector file, map and run built from them, look out of date; the data's own spec is sources.toml.
$(NER_DATA): zsner/data/sources.toml | $(INSTALLED)
	$(ZSNER) data fetch

# One gold file as make sees it: "remade" (a no-op) after the fetch. `zsner data fetch` rewrites only a copy
# whose checksum changed (a corpus replaced in sources.toml), so exactly what was built from that file —
# corpora, vectors, maps, runs — is newer-than-its-input and rebuilt; what read an unchanged file is kept.
data/ner/%: $(NER_DATA) ; @:

# every gold file a recipe names ("data/ner/..."): the runs of that recipe are rebuilt when one changes
recipe_gold = $(patsubst "%",%,$(shell grep -oE '"data/ner/[^"]+"' recipes/$(1).toml))
# a rule that re-runs a finished run because an input changed must start it over, not report the old result
restart_if_stale = $(if $(wildcard $@),--restart)

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

# Which word vectors the embedding baseline maps and trains with (issue 11): one switch, VECTORS, and the
# runs of each kind in their own folders (map, train and seed runs get the suffix -KIND; fastText none):
#   VECTORS=fasttext (default)   fastText trained here on data/corpus/LANG.txt -> data/vectors/LANG.vec
#   VECTORS=e5-small             distilled from the encoder folder data/encoders/e5-small by `zsner embed
#                                distill` -> data/vectors/e5-small/LANG.vec (any folder data/encoders/NAME works)
#   VECTORS=wiki VECTOR_PATH=/data/fasttext/wiki.%.vec   files you have (% = the language): the public
#                                fastText wiki.LANG.vec / cc.LANG.300.vec, or a .bin model
VECTORS ?= fasttext
VECTOR_PATH ?=
# extra `zsner embed distill` options, e.g. DISTILL_SET="--method alone" or "--layers 4-8", and the encoder
# folder (by default the one VECTORS names); a variant gets a kind of its own, so that its runs do too:
#   make train-es VECTORS=e5-mine DISTILL_ENCODER=data/encoders/e5-small DISTILL_SET="--layers 4-8"
# The variants measured in the README are named here, so that VECTORS alone selects them (DISTILL_SET then
# adds to their options, e.g. DISTILL_SET="--threads 1"):
#   e5-lid        the corpus lines a language identifier puts in English left out of the other languages'
#   e5-full-lid   that, and every corpus line encoded (no word left to be encoded alone for want of a context)
#   e5-spread-lid that, with the lines read in rounds: the spread sample of every source first, then the rest
distill_encoder.e5-lid := data/encoders/e5-small
distill_set.e5-lid := --drop-lines-in en
distill_encoder.e5-full-lid := data/encoders/e5-small
distill_set.e5-full-lid := --sentences 0 --drop-lines-in en
distill_encoder.e5-spread-lid := data/encoders/e5-small
distill_set.e5-spread-lid := --rounds 0 --drop-lines-in en
DISTILL_SET ?=
DISTILL_ENCODER ?= $(or $(distill_encoder.$(VECTORS)),data/encoders/$(VECTORS))
distill_options = $(strip $(distill_set.$(VECTORS)) $(DISTILL_SET))
ifneq ($(VECTOR_PATH),)
ifeq ($(VECTORS),fasttext)
$(error VECTOR_PATH=$(VECTOR_PATH): name these vectors too, e.g. VECTORS=wiki, so that their runs get folders of their own)
endif
endif
vectors_suffix := $(if $(filter fasttext,$(VECTORS)),,-$(VECTORS))
vector_file = $(if $(VECTOR_PATH),$(subst %,$(1),$(VECTOR_PATH)),$(if $(vectors_suffix),data/vectors/$(VECTORS)/$(1).vec,data/vectors/$(1).vec))
# the recipe's [vectors] paths replaced for another kind ($(1) = the pair's target language)
vector_options = $(if $(vectors_suffix),--set vectors.en=$(call vector_file,en) --set vectors.$(1)=$(call vector_file,$(1)))

.SECONDEXPANSION:  # lets the rules of mk/*.mk name per-pair prerequisites ($$(call recipe_gold,$$*))
-include mk/*.mk
