# Table 2 of the paper (supervised monolingual NER; issue 13): every language with a labelled train file,
# trained by `zsner train` on its own gold data (English: recipes/en.toml; the others: their pair recipe's
# target files, --target-language) with random word embeddings and with the VECTORS kind (fastText by default,
# VECTORS=e5-small: distilled from the encoder), each with and without the char LSTM, into
# runs/table2/LANG/EMBEDDINGS-char|nochar; `make table2` writes runs/table2.{md,csv} with the paper's figures.
# German is left out: the CoNLL-2003 German train file is not distributed with the gold data here.
TABLE2_LANGS := en es nl ar fi
# The schedule follows Table 4's switch (mk/cross.mk): by default 5 epochs with a dev evaluation at the end of
# each, into runs/table2/ (Spanish: 4 min a run on one core); SCHEDULE=paper: the recipes' 30 epochs with an
# evaluation every 150 batches, into runs/table2-paper/. The table says which schedule each row had.
ifeq ($(SCHEDULE),paper)
TABLE2_SCHEDULE ?=
else
TABLE2_SCHEDULE ?= --set training.epochs=5 --set training.eval_every=100000
endif
# extra `zsner train` options, e.g. TABLE2_SET="--set training.threads=1" (two runs side by side: make -j2)
TABLE2_SET ?=
table2_recipe = $(if $(filter en,$(1)),recipes/en.toml,recipes/$(1).toml --target-language)
table2_chars.char :=
table2_chars.nochar := --set model.use_chars=false
# the VECTORS kind's file, and its dimension where it is not the recipes' 300 (distilled e5-small: 384)
table2_vectors = --set vectors.$(1)=$(call vector_file,$(1))$(if $(vectors_suffix),$(if $(VECTOR_PATH),, --set model.word_dim=$(call vector_dim,$(1))))
table2_run = runs/table2$(ts)/$(1)/$(2)-$(3)/metrics.json

define table2_rules
runs/table2$(ts)/$(1)/random-%/metrics.json: $(call recipe_gold,$(1)) | $(INSTALLED) $(NER_DATA)
	$(ZSNER) train $(call table2_recipe,$(1)) --set 'vectors.$(1)=""' $$(table2_chars.$$*) $(TABLE2_SCHEDULE) $(TABLE2_SET) $$(restart_if_stale) --run-dir $$(@D)
runs/table2$(ts)/$(1)/$(VECTORS)-%/metrics.json: $(call vector_file,$(1)) $(call recipe_gold,$(1)) | $(INSTALLED) $(NER_DATA)
	$(ZSNER) train $(call table2_recipe,$(1)) $$(call table2_vectors,$(1)) $$(table2_chars.$$*) $(TABLE2_SCHEDULE) $(TABLE2_SET) $$(restart_if_stale) --run-dir $$(@D)
table2-$(1): $(foreach e,random $(VECTORS),$(foreach c,char nochar,$(call table2_run,$(1),$(e),$(c))))
endef
$(foreach l,$(TABLE2_LANGS),$(eval $(call table2_rules,$(l))))

TABLE2_RUNS := $(foreach l,$(TABLE2_LANGS),$(foreach e,random $(VECTORS),$(foreach c,char nochar,$(call table2_run,$(l),$(e),$(c)))))
table2: $(TABLE2_RUNS) | $(INSTALLED)  ## Table 2 (supervised monolingual NER by embeddings, +/- char LSTM) into runs/table2.{md,csv}; table2-X: one language
	$(ZSNER) table2 $(addprefix --runs ,$(wildcard runs/table2 runs/table2-paper)) --out runs/table2

.PHONY: table2 $(addprefix table2-,$(TABLE2_LANGS))
.PRECIOUS: $(TABLE2_RUNS)
