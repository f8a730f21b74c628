"""Fixtures of the transformer stages' tests (tests/test_transfer.py, tests/test_projection.py): real CoNLL
slices, a tiny random BERT built from them, and a pair recipe over both (conftest makes the fixtures global)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cross_fixtures import slice_corpus
from zsner.data.conll import read_conll

__all__ = ["slices", "tiny", "recipe", "teacher", "stage_recipe"]


@pytest.fixture(scope="module")
def slices(tmp_path_factory) -> dict[str, Path]:
    data = tmp_path_factory.mktemp("transfer-data")
    return {"en_train": slice_corpus("conll2003/eng.train", data / "eng.train", 120, "ascii"),
            "en_dev": slice_corpus("conll2003/eng.testa", data / "eng.testa", 40, "ascii"),
            "es_dev": slice_corpus("conll2002/esp.testa", data / "esp.testa", 40, "latin-1"),
            "es_test": slice_corpus("conll2002/esp.testb", data / "esp.testb", 40, "latin-1"),
            "nl_dev": slice_corpus("conll2002/ned.testa", data / "ned.testa", 40, "latin-1"),
            "nl_test": slice_corpus("conll2002/ned.testb", data / "ned.testb", 40, "latin-1")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, slices) -> Path:
    from zsner.encoders.tiny import build_tiny_encoder

    text = [" ".join(s.tokens) for name in ("en_train", "es_dev") for s in read_conll(slices[name])]
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny") / "bert", "bert", text, vocab_size=400, max_length=64)


def recipe(tmp: Path, slices: dict[str, Path], encoder: Path, target: str = "es", **transfer) -> Path:
    settings = {"encoder": str(encoder), "epochs": 2.0, "batch_size": 8, "eval_every": 6, "threads": 1,
                "max_subwords": 32, "lr": 1e-3, "head_lr": 1e-2, "source_test": str(slices["en_dev"]), **transfer}
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    path = tmp / f"en-{target}.toml"
    path.write_text(f"""name = "tiny-{target}"
seed = 3
[data]
language = "en"
train = "{slices['en_train']}"
dev = "{slices['en_dev']}"
scheme = "iob1"
[target]
language = "{target}"
unlabelled = "{slices[target + '_dev']}"
dev = "{slices[target + '_dev']}"
test = "{slices[target + '_test']}"
[transfer]
{body}
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, slices, tiny) -> Path:
    """A finished tiny transfer run (English → es): the English model every stage starts from."""
    import torch

    from zsner.transfer.config import load_transfer_recipe
    from zsner.transfer.trainer import TransferTrainer

    folder = tmp_path_factory.mktemp("teacher")
    torch.set_num_threads(1)
    TransferTrainer(load_transfer_recipe(recipe(folder, slices, tiny)), folder / "run").run()
    return folder / "run"


def stage_recipe(tmp: Path, slices: dict[str, Path], encoder: Path, teacher_run: Path, **stages) -> Path:
    """``recipe`` plus a ``[stages]`` table over ``teacher_run``; a dict value is a stage's own table
    (``crop={"translator": "hf"}`` → ``[stages.crop]``)."""
    path = recipe(tmp, slices, encoder)
    settings = {"teacher": str(teacher_run / "best-src-dev.pt"), "epochs": 1.0, "lr": 1e-3, **stages}
    tables = {k: settings.pop(k) for k in list(settings) if isinstance(settings[k], dict)}
    text = "[stages]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    for name, table in tables.items():
        text += f"[stages.{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    path.write_text(path.read_text("utf-8") + text, "utf-8")
    return path
