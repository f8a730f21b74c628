"""Small real slices of English and Spanish CoNLL and small .vec files for the cross-lingual tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from conftest import corpus


def slice_corpus(relative: str, target: Path, sentences: int, encoding: str, skip: int = 0) -> Path:
    """``sentences`` sentences of a real corpus file (after ``skip``), written as UTF-8."""
    text = corpus(relative).read_text(encoding=encoding)
    blocks = [b for b in text.split("\n\n") if b.strip() and not b.startswith("-DOCSTART-")]
    target.write_text("\n\n".join(blocks[skip: skip + sentences]) + "\n", encoding="utf-8")
    return target


def write_vec(path: Path, files: list[Path], dim: int, seed: int) -> Path:
    """Random vectors for every token of ``files`` (lower-cased, digits as 0; as the look-up tries)."""
    import re

    words: dict[str, None] = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                words[re.sub(r"\d", "0", line.split()[0].lower())] = None
    rng = np.random.default_rng(seed)
    rows = [f"{len(words)} {dim}"] + [w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=dim)) for w in words]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def make_recipe(tmp: Path, model: str = "cross-shared", extra: str = "", epochs: int = 3,
                train_sentences: int = 300) -> Path:
    """A complete en→es recipe over real slices, with 'mapped' vectors in tmp/map."""
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    en_train = slice_corpus("conll2003/eng.train", data / "eng.train", train_sentences, "ascii")
    en_dev = slice_corpus("conll2003/eng.testa", data / "eng.testa", 60, "ascii")
    es_train = slice_corpus("conll2002/esp.train", data / "esp.train", 200, "latin-1")
    es_dev = slice_corpus("conll2002/esp.testa", data / "esp.testa", 60, "latin-1")
    es_test = slice_corpus("conll2002/esp.testb", data / "esp.testb", 60, "latin-1")
    mapped = tmp / "map"
    if not mapped.is_dir():
        mapped.mkdir()
        write_vec(mapped / "en.vec", [en_train, en_dev], 32, 1)
        write_vec(mapped / "es.vec", [es_train, es_dev, es_test], 32, 2)
        (mapped / "report.json").write_text(json.dumps({"eval": {"after_refinement": {"csls_knn_10/P@1": 12.5}}}))
    path = tmp / f"{model}.toml"
    path.write_text(f"""
name = "es-tiny"
seed = 3
[languages]
source = "en"
target = "es"
[vectors]
en = "{mapped / 'en.vec'}"
es = "{mapped / 'es.vec'}"
[data]
language = "en"
train = "{en_train}"
dev = "{en_dev}"
scheme = "iob1"
[target]
language = "es"
unlabelled = "{es_train}"
dev = "{es_dev}"
test = "{es_test}"
scheme = "iob2"
[model]
word_dim = 32
char_dim = 16
char_hidden = 16
word_hidden = 32
dense_dim = 32
[training]
epochs = {epochs}
eval_every = 20
threads = 1
lr = 0.1
[cross]
model = "{model}"
mapped_dir = "{mapped}"
{extra}
""")
    return path


def scramble_tags(source: Path, target: Path, seed: int) -> Path:
    """``source`` with every gold tag replaced by a random one (O or B-*, so still valid IOB2)."""
    import random

    rng = random.Random(seed)
    tags = ["O", "B-PER", "B-LOC", "B-ORG", "B-MISC"]
    lines = [line.rsplit(" ", 1)[0] + " " + rng.choice(tags) if line.strip() else line
             for line in source.read_text(encoding="utf-8").splitlines()]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target
