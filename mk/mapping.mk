# Cross-lingual word-level mapping (zsner.mapping): `make map-es` learns the map of recipes/es.toml
# (en mapped into the es space) into runs/map-es. The vectors and the evaluation dictionary come from
# mk/embeddings.mk: en-LANG.txt for en->LANG, LANG-en.txt for the languages mapped into English
# (ar, fi, as in the paper).
MAP_INTO_EN := ar fi
map_dictionary = data/dictionaries/$(if $(filter $(1),$(MAP_INTO_EN)),$(1)-en,en-$(1)).txt

map-%: runs/map-%/report.json  ## cross-lingual word map for recipe % (e.g. map-es) into runs/map-%
	@:

runs/map-%/report.json: recipes/%.toml data/vectors/en.vec data/vectors/%.vec $$(call map_dictionary,$$*) | $(INSTALLED)
	$(ZSNER) map recipes/$*.toml --out runs/map-$*

.PRECIOUS: runs/map-%/report.json
