# Cross-lingual NER (zsner.cross; issue 5): `make train-es` maps the vectors (mk/mapping.mk), trains
# Cross-Shared on English through the mapped space, then Cross-Augmented from it, into runs/train-es/.
# Variants of Table 4: `make train-es-cross-word`, `train-es-source-mono`, ...; `make table` collects runs/.
CROSS_LANGS := es nl de ar fi
SEED ?= 1
# extra `zsner cross train` options for every stage, e.g. CROSS_SET="--set training.threads=1" to run
# two pairs side by side on a 2-core machine
CROSS_SET ?=

.PHONY: table  # not train-%: make skips pattern rules for phony targets

# VECTORS=KIND (Makefile): the same runs on another kind of word vectors, in runs/train-%-KIND/ (and
# runs/map-%-KIND, runs/table-KIND/); the recipe's vector paths, mapped folder and word_dim follow the kind
# (word_dim from the vectors' header: distilled e5-small vectors are 384-d, fastText's 300-d).
vs := $(vectors_suffix)
vector_dim = $(word 2,$(shell head -n1 $(call vector_file,$(1)) 2>/dev/null))
cross_vector_options = $(if $(vs),$(call vector_options,$(1)) --set cross.mapped_dir=runs/map-$(1)$(vs) $(if $(VECTOR_PATH),,--set model.word_dim=$(call vector_dim,$(1))))
cross_train = $(ZSNER) cross train recipes/$(1).toml --seed $(2) $(call cross_vector_options,$(1))

train-%: runs/train-%$(vs)/metrics.json  ## cross-lingual en->% (map, Cross-Shared, Cross-Augmented) into runs/train-%/
	@:

runs/train-%$(vs)/metrics.json: runs/train-%$(vs)/cross-augmented/metrics.json | $(INSTALLED)
	$(ZSNER) cross summary $(@D)

# Each run also depends on the gold files its recipe names: when one is replaced (`zsner data fetch` after a
# new checksum), make runs the stage again and $(restart_if_stale) starts it over instead of reporting the
# finished run's old result; an interrupted run (no metrics.json yet) resumes as usual.
runs/train-%$(vs)/cross-shared/metrics.json: runs/map-%$(vs)/report.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call cross_train,$*,$(SEED)) $(CROSS_SET) $(model_options.cross-shared) $(restart_if_stale) --run-dir $(@D)

# The recipe switches of Table 4's rows, used by the rules below and by the seed runs.
model_options.source-mono := --set cross.model=source-mono
model_options.cross-word := --set cross.model=cross-word
model_options.cross-word-nochar := --set cross.model=cross-word --set model.use_chars=false
model_options.cross-shared := --set cross.model=cross-shared

# Algorithm 1 starts from the best of the three source variants (Table 4's caption), chosen on source dev:
# no target label (`zsner cross pick-source`, run by the shell when the rule runs, after the three finished).
AUG_SOURCES := cross-word-nochar cross-word cross-shared
pick_source = $$($(ZSNER) cross pick-source $(1))

# (one rule each: a pattern rule with two targets would mean one command makes both)
runs/train-%$(vs)/cross-word/metrics.json: runs/map-%$(vs)/report.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call cross_train,$*,$(SEED)) $(CROSS_SET) $(model_options.cross-word) $(restart_if_stale) --run-dir $(@D)
runs/train-%$(vs)/cross-word-nochar/metrics.json: runs/map-%$(vs)/report.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call cross_train,$*,$(SEED)) $(CROSS_SET) $(model_options.cross-word-nochar) $(restart_if_stale) --run-dir $(@D)

runs/train-%$(vs)/cross-augmented/metrics.json: $(foreach v,$(AUG_SOURCES),runs/train-%$(vs)/$(v)/metrics.json) $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call cross_train,$*,$(SEED)) $(CROSS_SET) --set cross.model=cross-augmented --set cross.source_model=$(call pick_source,$(foreach v,$(AUG_SOURCES),runs/train-$*$(vs)/$(v))) $(restart_if_stale) --run-dir $(@D)

# Other rows of Table 4, e.g. `make train-es-cross-word` (runs/train-es/cross-word).
train-%-source-mono: $$(call vector_file,en) $$(call vector_file,$$*) | $(INSTALLED) $(NER_DATA)
	$(call cross_train,$*,$(SEED)) $(CROSS_SET) $(model_options.source-mono) --run-dir runs/train-$*$(vs)/source-mono
train-%-cross-word: runs/train-%$(vs)/cross-word/metrics.json
	@:
train-%-cross-word-nochar: runs/train-%$(vs)/cross-word-nochar/metrics.json
	@:

# Table 4 needs five seeds of every model for every pair: 5 x 5 x 5 = 125 trainings, 4-8 CPU-hours on a
# 2-core laptop at the paper's 30 epochs x 10 rounds. The seed runs therefore use a shorter schedule, kept
# as data in their config.json (`zsner table` labels the rows by it): 5 epochs, dev evaluation at the end of
# each epoch only, at most 3 rounds of Algorithm 1. On en-es the full schedule is within a seed's spread of
# it (target dev F1 reaches its plateau in epoch 2-3; runs/train-es/cross-shared/history.jsonl).
# `make seeds-es` (one pair) or `make -j2 seeds CROSS_SET="--set training.threads=1"` (all, two at a time).
TABLE_SEEDS ?= 1 2 3 4 5
# SCHEDULE=paper: the paper's own schedule (the recipes' 30 epochs, an evaluation every 150 batches, up to 10
# rounds of Algorithm 1) for the seed runs, into runs/table-paper/ (runs/table-KIND-paper/ with VECTORS=KIND)
SCHEDULE ?= seed
$(if $(filter-out seed paper,$(SCHEDULE)),$(error SCHEDULE must be seed or paper, not '$(SCHEDULE)'))
ifeq ($(SCHEDULE),paper)
TABLE_SCHEDULE ?=
ts := -paper
else
TABLE_SCHEDULE ?= --set training.epochs=5 --set training.eval_every=100000 --set cross.rounds=3
ts :=
endif
TABLE_MODELS := source-mono cross-word cross-word-nochar cross-shared cross-augmented
# $(1) = pair, $(2) = seed: Cross-Augmented of seed s starts from Cross-Shared of seed s
model_options.cross-augmented = --set cross.model=cross-augmented --set cross.source_model=$(call pick_source,$(foreach v,$(AUG_SOURCES),runs/table$(vs)$(ts)/$(1)/$(v)-s$(2)))
table_run = runs/table$(vs)$(ts)/$(1)/$(2)-s$(3)/metrics.json

define table_seed_rules
$(call table_run,$(1),source-mono,$(2)): $(call vector_file,en) $(call vector_file,$(1)) | $(INSTALLED) $(NER_DATA)
$(foreach m,cross-word cross-word-nochar cross-shared,$(call table_run,$(1),$(m),$(2))): runs/map-$(1)$(vs)/report.json | $(INSTALLED) $(NER_DATA)
$(call table_run,$(1),cross-augmented,$(2)): $(foreach v,$(AUG_SOURCES),$(call table_run,$(1),$(v),$(2)))
$(foreach m,$(TABLE_MODELS),$(call table_run,$(1),$(m),$(2))): $(call recipe_gold,$(1))
	$$(call cross_train,$(1),$(2)) $(TABLE_SCHEDULE) $(CROSS_SET) $$(call model_options.$$(patsubst %-s$(2),%,$$(notdir $$(@D))),$(1),$(2)) $$(restart_if_stale) --run-dir $$(@D)
endef
$(foreach p,$(CROSS_LANGS),$(foreach s,$(TABLE_SEEDS),$(eval $(call table_seed_rules,$(p),$(s)))))

# One group = the five runs of one pair and seed, in TABLE_MODELS order by a sub-make (-j1), so that
# Cross-Augmented follows its Cross-Shared at once; `make -j2 seeds` runs two groups at a time, seed by
# seed, so that an interrupted run leaves whole seeds of every pair.
table_group = seeds-$(1)-s$(2)
# what groups share (the venv, the gold data, the pair's map) is built here, once, before any group starts
define table_group_rule
$(call table_group,$(1),$(2)): runs/map-$(1)$(vs)/report.json | $(INSTALLED) $(NER_DATA) $(call vector_file,$(1))
	@$$(MAKE) --no-print-directory -j1 $(foreach m,$(TABLE_MODELS),$(call table_run,$(1),$(m),$(2)))
endef
$(foreach p,$(CROSS_LANGS),$(foreach s,$(TABLE_SEEDS),$(eval $(call table_group_rule,$(p),$(s)))))
TABLE_GROUPS := $(foreach s,$(TABLE_SEEDS),$(foreach p,$(CROSS_LANGS),$(call table_group,$(p),$(s))))
seeds: $(TABLE_GROUPS)  ## Table 4 seed runs of every pair into runs/table/ (seeds-es: one pair; SCHEDULE=paper: the paper's)
$(foreach p,$(CROSS_LANGS),$(eval seeds-$(p): $(foreach s,$(TABLE_SEEDS),$(call table_group,$(p),$(s)))))
.PHONY: seeds $(addprefix seeds-,$(CROSS_LANGS)) $(TABLE_GROUPS)

# the seed runs and each pair's `make train-X` run (the paper's full schedule); exploratory runs elsewhere
# under runs/ stay out of the table
TABLE_RUNS = $(wildcard runs/table runs/table-* $(foreach l,$(CROSS_LANGS),runs/train-$(l) runs/train-$(l)-*))
table: | $(INSTALLED)  ## Table 4 (Markdown + CSV) and Fig. 2 from runs/table and runs/train-X into runs/table4.*
	$(ZSNER) table $(addprefix --runs ,$(TABLE_RUNS)) --out runs/table4

.PRECIOUS: runs/train-%$(vs)/metrics.json runs/train-%$(vs)/cross-shared/metrics.json runs/train-%$(vs)/cross-augmented/metrics.json runs/train-%$(vs)/cross-word/metrics.json runs/train-%$(vs)/cross-word-nochar/metrics.json runs/fig3-%$(vs).png

# Figure 3 of the paper (t-SNE of NER-tagged words: monolingual vectors, mapped vectors, Cross-Shared's
# common encoder) for a pair's Cross-Shared run: `make fig3-es` → runs/fig3-es.png (+ .csv).
fig3-%: runs/fig3-%$(vs).png  ## Figure 3 (t-SNE, three panels) of en->% from runs/train-%/cross-shared
	@:
runs/fig3-%$(vs).png: runs/train-%$(vs)/cross-shared/metrics.json | $(INSTALLED)
	$(ZSNER) cross fig3 $(<D) --out $@
