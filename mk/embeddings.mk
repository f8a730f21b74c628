# Word vectors, monolingual corpora and bilingual dictionaries (zsner.embeddings; see embeddings/README.md).
# Real file targets: `make data/vectors/es.vec` (or `make vectors-es`) builds only what is missing.
# The venv and the installed sources are order-only prerequisites: reinstalling them must not
# trigger hours of corpus building and training again (delete data/corpus/LANG.txt to rebuild).
EMB_LANGS := en es nl de fi ar
DICT_PAIRS := en-es es-en en-nl nl-en en-de de-en ar-en en-ar fi-en en-fi
SOURCES_STAMP := embeddings/cache/.sources-installed
DICTS_STAMP := embeddings/cache/.dictionaries-installed

.PHONY: corpora vectors dictionaries  # not corpus-% / vectors-%: make skips pattern rules for phony targets
.PRECIOUS: data/corpus/%.txt data/vectors/%.vec  # keep the corpora (intermediate files) and vectors

$(SOURCES_STAMP): embeddings/install_sources.sh | $(INSTALLED)
	PY=$(PY) PIP=$(VENV)/bin/pip bash embeddings/install_sources.sh corpus
	mkdir -p $(@D) && touch $@

$(DICTS_STAMP): embeddings/install_sources.sh
	bash embeddings/install_sources.sh dictionaries
	mkdir -p $(@D) && touch $@

corpus-%: data/corpus/%.txt  ## build the monolingual corpus of one language (en es nl de fi ar)
	@:

data/corpus/%.txt: $$(ner_train.$$*) | $(INSTALLED) $(SOURCES_STAMP)
	$(ZSNER) corpus build $*

# the gold train file whose tokens go into each corpus (zsner/embeddings/sources.py NER_TRAIN): a corpus,
# and so its vectors and maps, is rebuilt when `zsner data fetch` replaces that file (German has none)
ner_train.en := data/ner/conll2003/eng.train
ner_train.es := data/ner/conll2002/esp.train
ner_train.nl := data/ner/conll2002/ned.train
ner_train.fi := data/ner/fi/fi.train.iob2
ner_train.ar := data/ner/ar/ar.train.iob2

vectors-%: $$(call vector_file,$$*)  ## word vectors of one language (VECTORS=fasttext: trained here; e5-small: distilled)
	@:

data/vectors/%.vec: data/corpus/%.txt | $(INSTALLED)
	$(ZSNER) embed train $< data/vectors/$*

ifeq ($(VECTOR_PATH),)
ifneq ($(vectors_suffix),)
# contextual vectors from a local encoder folder; E5_ENCODER (mk/encoders.mk) is built by `make encoder`
data/vectors/$(VECTORS)/%.vec: data/corpus/%.txt $(DISTILL_ENCODER)/config.json | $(INSTALLED)
	$(ZSNER) embed distill $* --encoder $(DISTILL_ENCODER) --out $@ $(distill_options)
.PRECIOUS: data/vectors/$(VECTORS)/%.vec
endif
endif

corpora: $(addprefix data/corpus/,$(addsuffix .txt,$(EMB_LANGS)))  ## all six corpora
vectors: $(foreach l,$(EMB_LANGS),$(call vector_file,$(l)))  ## all six vector files (of the kind VECTORS names)

DICT_FILES := $(addprefix data/dictionaries/,$(addsuffix .txt,$(DICT_PAIRS)))
dictionaries: $(DICT_FILES)  ## MUSE-format bilingual dictionaries from FreeDict (en-es en-nl en-de ar-en fi-en + reverses)

data/dictionaries/%.txt: | $(INSTALLED) $(DICTS_STAMP)
	$(ZSNER) dictionary build $*

# Parallel text for the projection stages (zsner/embeddings/parallel.py): `make parallel-es` pairs the
# LibreOffice help's paragraphs by element id (es de nl fi); `make parallel-es-bible` the SWORD Bibles' verses (es).
parallel-%: data/parallel/en-%.libreoffice.tsv  ## English-target paragraph pairs of the LibreOffice help (es de nl fi)
	@:
parallel-%-bible: data/parallel/en-%.bible.tsv  ## English-target verse pairs of the SWORD Bibles (es)
	@:
data/parallel/en-%.libreoffice.tsv: | $(INSTALLED) $(SOURCES_STAMP)
	$(ZSNER) corpus parallel $* --source libreoffice --out $@
data/parallel/en-%.bible.tsv: | $(INSTALLED) $(SOURCES_STAMP)
	$(ZSNER) corpus parallel $* --source bible --out $@
.PRECIOUS: data/parallel/en-%.libreoffice.tsv data/parallel/en-%.bible.tsv
