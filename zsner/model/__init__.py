"""Neural parts of the tagger: the CRF, the LSTM encoders and the assembled CRF tagger."""
