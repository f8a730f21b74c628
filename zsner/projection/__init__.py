"""Stages that turn English labels into pseudo-labelled target-language training data, then fine-tune the
English model-transfer run on it (the transformer half's counterpart of the embedding baseline's
Algorithm 1). Above ``zsner.transfer``: a stage writes a CoNLL file and ``TransferTrainer`` trains on it."""
