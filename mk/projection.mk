# Pseudo-labelling stages (zsner.projection; issue 12): each labels target-language text with the pair's finished
# model-transfer run (mk/transfer.mk) and fine-tunes it on the result; each is a row of `make compare-X`.
# `make selftrain-es`: the transfer run labels [target] unlabelled (the embedding baseline's D_T), a student starting
# from it learns from the labels with Li et al.'s re-weighted loss (runs/selftrain-es/linear-reweighted);
# `make selftrain-es-ce` the same with plain cross-entropy (Li et al.'s Table 3 ablation).
# extra `zsner stage` options, e.g. STAGE_SET="--set stages.selftrain.min_confidence=0.9"
STAGE_SET ?=
stage_command = $(ZSNER) stage $(1) recipes/$*.toml --seed $(SEED) $(STAGE_SET) --set stages.loss=$(2) $(restart_if_stale) --run-dir $(@D)

selftrain-%: runs/selftrain-%/linear-reweighted/metrics.json  ## self-training en->% on the transfer run's labels of the target's unlabelled text
	@:

selftrain-%-ce: runs/selftrain-%/linear-ce/metrics.json  ## the same with cross-entropy instead of the re-weighted loss
	@:

# Redone from scratch when the teacher (the transfer run) or a gold file was replaced.
runs/selftrain-%/linear-reweighted/metrics.json: runs/transfer-%/linear/metrics.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call stage_command,selftrain,reweighted)

runs/selftrain-%/linear-ce/metrics.json: runs/transfer-%/linear/metrics.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call stage_command,selftrain,ce)

.PRECIOUS: runs/selftrain-%/linear-reweighted/metrics.json runs/selftrain-%/linear-ce/metrics.json

# `make wordalign-es`: the transfer run tags the English side of the pair's parallel text (mk/embeddings.mk:
# parallel-X), eflomal aligns the words, the entities are projected, a student learns from the target sides.
wordalign-%: runs/wordalign-%/linear-reweighted/metrics.json  ## alignment-based projection en->% over parallel text (es de nl fi)
	@:

runs/wordalign-%/linear-reweighted/metrics.json: runs/transfer-%/linear/metrics.json data/parallel/en-%.libreoffice.tsv $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call stage_command,wordalign,reweighted)

.PRECIOUS: runs/wordalign-%/linear-reweighted/metrics.json

# `make entityalign-es`: Li et al.'s pipeline — an entity alignment model learns from the word-aligned projections
# of the same parallel text, then projects every English entity the teacher found.
entityalign-%: runs/entityalign-%/linear-reweighted/metrics.json  ## Li et al.'s entity-alignment projection en->% (es de nl fi)
	@:

runs/entityalign-%/linear-reweighted/metrics.json: runs/transfer-%/linear/metrics.json data/parallel/en-%.libreoffice.tsv $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call stage_command,entityalign,reweighted)

# `make entityalign-es-ce`: the CE ablation trains on the re-weighted run's own labels (eflomal cannot be seeded)
entityalign-%-ce: runs/entityalign-%/linear-ce/metrics.json  ## the same labels, cross-entropy instead of the re-weighted loss
	@:

runs/entityalign-%/linear-ce/metrics.json: runs/entityalign-%/linear-reweighted/metrics.json | $(INSTALLED) $(NER_DATA)
	$(call stage_command,entityalign,ce) --labels-from $(<D)

.PRECIOUS: runs/entityalign-%/linear-reweighted/metrics.json runs/entityalign-%/linear-ce/metrics.json

# `make crop-es`: CROP with Debian's Apertium (en<->es only: no other pair of ours has an Apertium package; a
# user with seq2seq models sets [stages.crop] translator = "hf" and two folders). Apertium is installed on first use.
TRANSLATORS_STAMP := .venv/.translators
$(TRANSLATORS_STAMP): embeddings/install_sources.sh | $(INSTALLED)
	bash embeddings/install_sources.sh translators
	touch $@

crop-%: runs/crop-%/linear-reweighted/metrics.json  ## CROP en->%: translate, tag, translate back with entity markers, match (es)
	@:

runs/crop-%/linear-reweighted/metrics.json: runs/transfer-%/linear/metrics.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA) $(TRANSLATORS_STAMP)
	$(call stage_command,crop,reweighted)

.PRECIOUS: runs/crop-%/linear-reweighted/metrics.json
