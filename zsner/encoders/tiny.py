"""Tiny randomly initialised encoder folders (BERT or XLM-R shaped) for fast tests.

A real encoder takes seconds to load and hundreds of MB; code that only needs *an* encoder folder
(sub-word alignment, batching, a tagger head, saving and reloading) can be tested against one of
these in milliseconds. The folder has the same layout as a saved Hugging Face model, with a real fast
tokenizer whose vocabulary comes from a few sentences: WordPiece for ``kind="bert"`` (``[CLS] … [SEP]``, like
bert-base-multilingual-cased) and Unigram with metaspace for ``kind="xlm-roberta"`` (``<s> … </s>``,
specials at XLM-R's ids 0–3). Same arguments, same folder, in any process: the vocabulary is the sentences'
characters and most frequent words (ties broken alphabetically), the weights come from ``seed``.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable, Literal

SENTENCES = (
    "EU rejects German call to boycott British lamb .",
    "Peter Blackburn lives in Brussels and works for the European Commission .",
    "La Unión Europea rechaza la propuesta alemana de boicotear el cordero británico .",
    "El presidente de Perú viajó a Madrid el lunes .",
    "Die Europäische Kommission in Brüssel lehnt den Boykott ab .",
    "De minister van Financiën sprak in Amsterdam over de begroting .",
    "Helsingin yliopisto sijaitsee Suomessa .",
    "Yesterday , 12 people from Reuters met the UN in New York .",
)
Kind = Literal["bert", "xlm-roberta"]
BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
XLMR_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _words(pre_tokenizer, sentences: list[str]) -> Counter:
    """How often each pre-tokenized word occurs (the tokenizer's own pre-tokenizer cuts the words)."""
    return Counter(word for s in sentences for word, _ in pre_tokenizer.pre_tokenize_str(s))


def _frequent_first(counts: Counter, room: int) -> list[str]:
    """The ``room`` most frequent items, ties broken by the item itself: the same list in every process.

    The ``tokenizers`` trainers break ties by Rust hash order, which is seeded per process, so two test
    sessions got different vocabularies (and, through them, different models) from the same arguments."""
    return [item for item, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, room)]]


def _bert_tokenizer(sentences: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = _words(pre_tokenizer, [normalizer.normalize_str(s) for s in sentences])
    chars = sorted({c for w in words for c in w})
    # every word can be spelt with single characters and ##-continuations; frequent words are one piece
    vocab = [*BERT_SPECIALS, *chars, *(f"##{c}" for c in chars)]
    spelt = set(vocab)
    vocab += [w for w in _frequent_first(words, vocab_size) if w not in spelt][: vocab_size - len(vocab)]
    tokenizer = Tokenizer(WordPiece({piece: i for i, piece in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    tokenizer.add_special_tokens(list(BERT_SPECIALS))
    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                "mask_token": "[MASK]"}
    return tokenizer, specials, ["input_ids", "token_type_ids", "attention_mask"]


def _xlmr_tokenizer(sentences: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    normalizer = normalizers.NFKC()
    pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    words = _words(pre_tokenizer, [normalizer.normalize_str(s) for s in sentences])
    chars = Counter(c for w, n in words.items() for c in w for _ in range(n))
    # scores are log relative frequencies, characters 10 nats below words: a word in the vocabulary is one
    # piece, any other is spelt in characters
    pieces = sorted(chars) + [w for w in _frequent_first(words, vocab_size) if len(w) > 1 and w not in chars]
    pieces = pieces[: max(len(chars), vocab_size - len(XLMR_SPECIALS))]
    n_chars, n_words = sum(chars.values()), sum(words.values())
    scored = [(s, 0.0) for s in XLMR_SPECIALS]
    scored += [(p, math.log(chars[p] / n_chars) - 10 if p in chars else math.log(words[p] / n_words)) for p in pieces]
    tokenizer = Tokenizer(Unigram(scored, unk_id=XLMR_SPECIALS.index("<unk>")))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.add_special_tokens(list(XLMR_SPECIALS))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    return tokenizer, specials, ["input_ids", "attention_mask"]


def build_tiny_encoder(out_dir: str | Path, kind: Kind = "bert", sentences: Iterable[str] = SENTENCES,
                       vocab_size: int = 300, hidden_size: int = 32, layers: int = 2, heads: int = 2,
                       max_length: int = 64, seed: int = 0) -> Path:
    """Write a random ``kind`` encoder with a tokenizer trained on ``sentences`` to ``out_dir``.

    An existing folder is replaced; the folder appears complete or not at all.
    """
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    out_dir = Path(out_dir)
    sentences = list(sentences)
    if kind == "bert":
        tokenizer, specials, inputs = _bert_tokenizer(sentences, vocab_size)
        config_class, model_class, positions = BertConfig, BertModel, max_length
    elif kind == "xlm-roberta":
        tokenizer, specials, inputs = _xlmr_tokenizer(sentences, vocab_size)
        config_class, model_class, positions = XLMRobertaConfig, XLMRobertaModel, max_length + 2
    else:
        raise ValueError(f"kind must be 'bert' or 'xlm-roberta', not {kind!r}")
    config = config_class(
        vocab_size=tokenizer.get_vocab_size(), hidden_size=hidden_size, num_hidden_layers=layers,
        num_attention_heads=heads, intermediate_size=2 * hidden_size, max_position_embeddings=positions,
        pad_token_id=tokenizer.token_to_id(specials["pad_token"]), type_vocab_size=2 if kind == "bert" else 1,
    )
    torch.manual_seed(seed)
    model = model_class(config).eval()  # with a pooler, like a saved real model

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        model.save_pretrained(str(tmp))
        tokenizer.save(str(tmp / "tokenizer.json"))
        tokenizer_config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_length,
                            "model_input_names": inputs, "clean_up_tokenization_spaces": False, **specials}
        (tmp / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")
        (tmp / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp (and the weights writer) make them private
        for file in tmp.iterdir():
            os.chmod(file, 0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
