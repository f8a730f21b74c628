"""Reading, converting and fetching labelled NER corpora."""
