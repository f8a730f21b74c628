"""Tiny randomly initialised encoder folders (BERT or XLM-R shaped) for fast tests.

A real encoder takes seconds to load and hundreds of MB; code that only needs *an* encoder folder
(sub-word alignment, batching, a tagger head, saving and reloading) can be tested against one of
these in milliseconds. The folder has the same layout as a saved Hugging Face model, with a real fast
tokenizer trained on a few sentences: WordPiece for ``kind="bert"`` (``[CLS] … [SEP]``, like
bert-base-multilingual-cased) and Unigram with metaspace for ``kind="xlm-roberta"`` (``<s> … </s>``,
specials at XLM-R's ids 0–3). Same arguments, same folder: the weights come from ``seed``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
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


def _bert_tokenizer(sentences: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordPiece

    tokenizer = Tokenizer(WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.train_from_iterator(sentences, trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=list(BERT_SPECIALS), show_progress=False))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                "mask_token": "[MASK]"}
    return tokenizer, specials, ["input_ids", "token_type_ids", "attention_mask"]


def _xlmr_tokenizer(sentences: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.train_from_iterator(sentences, trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=list(XLMR_SPECIALS), unk_token="<unk>", show_progress=False))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
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
