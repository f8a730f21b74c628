# Cross-lingual word-level mapping (zsner.mapping): `make map-es` learns the map of recipes/es.toml
# (en mapped into the es space) into runs/map-es. The vectors and the evaluation dictionary come from
# mk/embeddings.mk: en-LANG.txt for en->LANG, LANG-en.txt for the languages mapped into English
# (ar, fi, as in the paper).
MAP_INTO_EN := ar fi
map_dictionary = data/dictionaries/$(if $(filter $(1),$(MAP_INTO_EN)),$(1)-en,en-$(1)).txt

# VECTORS=KIND (Makefile) maps that kind of vectors into runs/map-%-KIND.
map-%: runs/map-%$(vectors_suffix)/report.json  ## cross-lingual word map for recipe % (e.g. map-es) into runs/map-%
	@:

runs/map-%$(vectors_suffix)/report.json: recipes/%.toml $$(call vector_file,en) $$(call vector_file,$$*) $$(call map_dictionary,$$*) | $(INSTALLED)
	$(ZSNER) map recipes/$*.toml $(call vector_options,$*) --out $(@D)

.PRECIOUS: runs/map-%$(vectors_suffix)/report.json
