# Cross-lingual NER (zsner.cross; issue 5): `make train-es` maps the vectors (mk/mapping.mk), trains
# Cross-Shared on English through the mapped space, then Cross-Augmented from it, into runs/train-es/.
# Variants of Table 4: `make train-es-cross-word`, `train-es-source-mono`, ...; `make table` collects runs/.
CROSS_LANGS := es nl de ar fi
SEED ?= 1
# extra `zsner cross train` options for every stage, e.g. CROSS_SET="--set training.threads=1" to run
# two pairs side by side on a 2-core machine
CROSS_SET ?=

.PHONY: table  # not train-%: make skips pattern rules for phony targets

train-%: runs/train-%/metrics.json  ## cross-lingual en->% (map, Cross-Shared, Cross-Augmented) into runs/train-%/
	@:

runs/train-%/metrics.json: runs/train-%/cross-augmented/metrics.json | $(INSTALLED)
	$(ZSNER) cross summary runs/train-$*

runs/train-%/cross-shared/metrics.json: runs/map-%/report.json | $(INSTALLED) $(NER_DATA)
	$(ZSNER) cross train recipes/$*.toml --seed $(SEED) $(CROSS_SET) --set cross.model=cross-shared --run-dir runs/train-$*/cross-shared

runs/train-%/cross-augmented/metrics.json: runs/train-%/cross-shared/metrics.json | $(INSTALLED) $(NER_DATA)
	$(ZSNER) cross train recipes/$*.toml --seed $(SEED) $(CROSS_SET) --set cross.model=cross-augmented --set cross.source_model=runs/train-$*/cross-shared --run-dir runs/train-$*/cross-augmented

# Other rows of Table 4, e.g. `make train-es-cross-word` (runs/train-es/cross-word).
train-%-source-mono: | $(INSTALLED) $(NER_DATA)
	$(ZSNER) cross train recipes/$*.toml --seed $(SEED) $(CROSS_SET) --set cross.model=source-mono --run-dir runs/train-$*/source-mono
train-%-cross-word: runs/map-%/report.json | $(INSTALLED) $(NER_DATA)
	$(ZSNER) cross train recipes/$*.toml --seed $(SEED) $(CROSS_SET) --set cross.model=cross-word --run-dir runs/train-$*/cross-word
train-%-cross-word-nochar: runs/map-%/report.json | $(INSTALLED) $(NER_DATA)
	$(ZSNER) cross train recipes/$*.toml --seed $(SEED) $(CROSS_SET) --set cross.model=cross-word --set model.use_chars=false --run-dir runs/train-$*/cross-word-nochar

table: | $(INSTALLED)  ## Table 4 (Markdown + CSV) and Fig. 2 from runs/ into runs/table4.*
	$(ZSNER) table --runs runs --out runs/table4

.PRECIOUS: runs/train-%/metrics.json runs/train-%/cross-shared/metrics.json runs/train-%/cross-augmented/metrics.json
