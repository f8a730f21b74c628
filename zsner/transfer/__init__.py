"""Model transfer (issue 10): a multilingual encoder fine-tuned on English NER, applied to the target language."""
