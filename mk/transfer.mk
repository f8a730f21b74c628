# Model transfer (zsner.transfer; issue 10): `make transfer-es` fine-tunes the offline encoder (mk/encoders.mk)
# on English CoNLL-2003 and scores it on the pair's target files, both selections, into runs/transfer-es/linear;
# `make transfer-es-crf` the same with zsner's CRF head. `make compare-es` puts every finished model of the pair,
# embedding baseline and transfer, on one table (runs/compare-es.{md,csv}).
TRANSFER_LANGS := es nl de ar fi
# extra `zsner transfer train` options, e.g. TRANSFER_SET="--set transfer.epochs=3" (the full schedule)
TRANSFER_SET ?=
# TRANSFER_FROM=runs/transfer-es: build the other pairs' runs from that pair's finished runs by
# `zsner transfer retarget` (transfer trains on English only: the same weights, minutes instead of an hour)
TRANSFER_FROM ?=
transfer_command = $(if $(TRANSFER_FROM),$(ZSNER) transfer retarget $(TRANSFER_FROM)/$(1) recipes/$*.toml,$(ZSNER) transfer train recipes/$*.toml) --seed $(SEED) $(TRANSFER_SET) --set transfer.head=$(1) $(restart_if_stale) --run-dir $(@D)

.PHONY: compare  # not transfer-% / compare-%: make skips pattern rules for phony targets

transfer-%: runs/transfer-%/linear/metrics.json  ## model transfer en->% with e5-small, linear head (runs/transfer-%/linear)
	@:

transfer-%-crf: runs/transfer-%/crf/metrics.json  ## the same with zsner's CRF head (runs/transfer-%/crf)
	@:

# A run is redone from scratch ($(restart_if_stale)) when its encoder or a gold file it reads was replaced.
runs/transfer-%/linear/metrics.json: $(E5_ENCODER)/config.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call transfer_command,linear)

runs/transfer-%/crf/metrics.json: $(E5_ENCODER)/config.json $$(call recipe_gold,$$*) | $(INSTALLED) $(NER_DATA)
	$(call transfer_command,crf)

compare-%: | $(INSTALLED)  ## every finished model of en->%, both families, one table: runs/compare-%.{md,csv}
	$(ZSNER) compare $*

compare: $(addprefix compare-,$(TRANSFER_LANGS))  ## compare-X for every pair

.PRECIOUS: runs/transfer-%/linear/metrics.json runs/transfer-%/crf/metrics.json
