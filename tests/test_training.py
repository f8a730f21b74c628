"""Training on a small real slice of CoNLL-2003: the loss falls, the run directory is complete, a run
interrupted by ^C resumes, and predict/evaluate work on the saved model."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, corpus
from zsner.errors import ZsnerError
from zsner.training.recipe import load_recipe
from zsner.training.trainer import Trainer, clip_gradients


def _slice(source: Path, target: Path, sentences: int) -> Path:
    blocks = source.read_text(encoding="ascii").split("\n\n")[: sentences + 1]
    target.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return target


@pytest.fixture
def recipe_file(tmp_path):
    train = _slice(corpus("conll2003/eng.train"), tmp_path / "train.conll", 400)
    dev = _slice(corpus("conll2003/eng.testa"), tmp_path / "dev.conll", 80)
    path = tmp_path / "tiny.toml"
    path.write_text(f"""
name = "tiny"
seed = 3
[data]
train = "{train}"
dev = "{dev}"
test = "{dev}"
scheme = "iob1"
[model]
word_dim = 32
word_hidden = 24
dense_dim = 24
[training]
epochs = 5
eval_every = 10
threads = 1
""")
    return path


def test_tiny_run_learns_and_writes_run_dir(recipe_file, tmp_path):
    run_dir = tmp_path / "run"
    metrics = Trainer(load_recipe(recipe_file, {"training.epochs": 12}), run_dir).run()
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert history[-1]["loss"] < 0.6 * history[0]["loss"]
    assert metrics["dev"]["f1"] > 20.0
    for name in ("config.json", "versions.json", "log.txt", "metrics.json", "best.pt", "last.pt",
                 "test.predictions.conll", "dev.conlleval.txt"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 3
    assert "torch" in json.loads((run_dir / "versions.json").read_text())
    # the same command again reports the finished run instead of training again
    assert Trainer(load_recipe(recipe_file, {"training.epochs": 12}), run_dir).run() == metrics
    # a different recipe in the same run directory is refused
    with pytest.raises(ZsnerError, match="different recipe"):
        Trainer(load_recipe(recipe_file, {"training.epochs": 12, "training.lr": 0.05}), run_dir).run()


def test_same_seed_same_result(recipe_file, tmp_path):
    overrides = {"training.epochs": 1}
    a = Trainer(load_recipe(recipe_file, overrides), tmp_path / "a").run()
    b = Trainer(load_recipe(recipe_file, overrides), tmp_path / "b").run()
    assert a["dev"] == b["dev"]


def test_interrupted_run_resumes(recipe_file, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "zsner", "train", str(recipe_file), "--run-dir", str(run_dir),
               "--set", "training.epochs=6", "--set", "training.eval_every=5"]
    # A job started in the background by a shell inherits SIGINT as ignored, and Python then installs
    # no KeyboardInterrupt handler: restore the default so ^C reaches the child as it does a user's.
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not (run_dir / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    steps_before = [json.loads(line)["step"] for line in (run_dir / "history.jsonl").read_text().splitlines()]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line)["step"] for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert steps[: len(steps_before)] == steps_before
    assert steps == sorted(set(steps)), "no step trained twice after resuming"
    assert "resuming at epoch" in (run_dir / "log.txt").read_text()
    from zsner.data.conll import read_conll

    batches_per_epoch = -(-len(read_conll(recipe_file.parent / "train.conll", scheme="iob1")) // 16)
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 6 * batches_per_epoch

    # ... and ends as the same run never interrupted: same history, metrics and weights (the ^C lands
    # mid-epoch; the epoch's shuffle and singleton-UNK stream and the dropout stream continue exactly)
    whole = tmp_path / "whole"
    done = subprocess.run(command[:6] + [str(whole)] + command[7:], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    def untimed(path: Path) -> list[dict]:
        text = path.read_text()
        lines = [json.loads(text)] if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]
        return [{k: v for k, v in entry.items() if k not in ("seconds", "train_seconds")} for entry in lines]

    for name in ("history.jsonl", "metrics.json"):
        assert untimed(run_dir / name) == untimed(whole / name), name
    import torch

    for name in ("best.pt", "last.pt"):
        a, b = (torch.load(d / name, weights_only=False) for d in (run_dir, whole))
        a, b = (p.get("model", p.get("state_dict")) for p in (a, b))
        assert all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys(), name


def test_predict_and_evaluate_commands(recipe_file, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(load_recipe(recipe_file, {"training.epochs": 1}), run_dir).run()
    text = tmp_path / "raw.txt"
    text.write_text("Peter Blackburn visited Brussels .\nEU rejects German call to boycott British lamb .\n")
    out = subprocess.run([sys.executable, "-m", "zsner", "predict", "--model", str(run_dir), str(text)],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line]
    assert [r[0] for r in rows] == "Peter Blackburn visited Brussels . EU rejects German call to boycott British lamb .".split()
    assert all(r[1] == "O" or r[1][:2] in ("B-", "I-") for r in rows)
    # raw text from standard input: punctuation cut off as in the CoNLL files, entities as spans of the text
    said = "In Paris, President Chirac met Peter Blackburn. EU officials (in Brussels) agreed."
    raw = subprocess.run([sys.executable, "-m", "zsner", "predict", "--model", str(run_dir), "-", "--lang", "en"],
                         cwd=REPO, input=said + "\n", capture_output=True, text=True, check=True).stdout
    assert [line.split()[0] for line in raw.splitlines() if line][:4] == ["In", "Paris", ",", "President"]
    assert raw.count("\n\n") == 2  # two sentences
    lines = subprocess.run([sys.executable, "-m", "zsner", "predict", "--model", str(run_dir), "-", "--format", "json"],
                           cwd=REPO, input=said + "\n", capture_output=True, text=True, check=True).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["line"] for r in records] == [1, 1] and records[1]["tokens"][:3] == ["EU", "officials", "("]
    for record in records:
        assert len(record["tags"]) == len(record["tokens"])
        for entity in record["entities"]:
            assert said[entity["start"]:entity["end"]] == entity["text"]
            first, last = entity["tokens"]
            assert entity["text"].replace(" ", "") == "".join(record["tokens"][first:last])
    dev = tmp_path / "dev.conll"
    scores = subprocess.run([sys.executable, "-m", "zsner", "evaluate", "--model", str(run_dir), str(dev),
                             "--scheme", "iob1", "--json"], cwd=REPO, capture_output=True, text=True, check=True)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert json.loads(scores.stdout)["f1"] == pytest.approx(metrics["dev"]["f1"])


def test_recipe_errors_are_one_line(tmp_path, recipe_file):
    bad = tmp_path / "bad.toml"
    bad.write_text(recipe_file.read_text().replace("epochs = 5", "epochs = 5\nepoch = 4"))
    with pytest.raises(ZsnerError, match=r"unknown key 'epoch' in \[training\]"):
        load_recipe(bad)
    bad.write_text(recipe_file.read_text().replace("epochs = 5", 'epochs = "three"'))
    result = subprocess.run([sys.executable, "-m", "zsner", "train", str(bad)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"zsner: error: {bad}: [training] epochs = 'three' should be of type int"


def test_clip_gradients_handles_sparse():
    import torch

    embedding = torch.nn.Embedding(10, 3, sparse=True)
    linear = torch.nn.Linear(3, 1)
    linear(embedding(torch.tensor([1, 2, 2]))).sum().mul(100).backward()
    params = [embedding.weight, linear.weight, linear.bias]
    total = clip_gradients(params, 1.0)
    assert total > 1.0
    norms = [embedding.weight.grad.coalesce()._values().norm(), linear.weight.grad.norm(), linear.bias.grad.norm()]
    assert float(torch.stack(norms).norm()) == pytest.approx(1.0, rel=1e-4)


def _write_vec(path: Path, words, dim: int, seed: int = 0) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    table = {w: rng.normal(size=dim).astype("float32") for w in words}
    lines = [f"{len(table)} {dim}"] + [w + " " + " ".join(f"{x:.5f}" for x in v) for w, v in table.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def test_pretrained_vectors_initialise_embeddings(recipe_file, tmp_path):
    import numpy as np

    from zsner.data.conll import read_conll
    from zsner.training.checkpoint import load_model

    train = read_conll(recipe_file.parent / "train.conll", scheme="iob1")
    dev = read_conll(recipe_file.parent / "dev.conll", scheme="iob1")
    words = sorted({t.lower() for s in train[:50] + dev[:50] for t in s.tokens})
    vec = tmp_path / "en.vec"
    table = _write_vec(vec, words, 32)
    recipe = recipe_file.read_text() + f'\n[vectors]\nen = "{vec}"\n'
    with_vectors = tmp_path / "vectors.toml"
    with_vectors.write_text(recipe)
    run_dir = tmp_path / "run"
    Trainer(load_recipe(with_vectors, {"training.epochs": 1, "model.freeze_word_embeddings": True}), run_dir).run()
    model, vocabs = load_model(run_dir)
    weight = model.encoder.words.weight.detach().numpy()
    dev_only = [t for s in dev[:50] for t in s.tokens if t not in {w for s2 in train for w in s2.tokens}]
    missing = [t for t in dev_only if t.lower() in table and not any(c.isdigit() for c in t)
               and vocabs.normaliser(t) not in vocabs.words]
    assert dev_only and not missing, missing[:5]
    checked = 0
    for word in vocabs.words.items[2:]:
        key = word if word in table else word.lower()
        if key in table:
            assert np.allclose(weight[vocabs.words.index[word]], table[key], atol=1e-5)
            checked += 1
    assert checked > 100
    wrong = tmp_path / "wrong.vec"
    _write_vec(wrong, words[:10], 16)
    bad = tmp_path / "bad.toml"
    bad.write_text(recipe_file.read_text() + f'\n[vectors]\nen = "{wrong}"\n')
    with pytest.raises(ZsnerError, match=r"wrong.vec: vectors have dimension 16 but the recipe's \[model\] word_dim is 32"):
        Trainer(load_recipe(bad), tmp_path / "run2").run()


def test_fast_tagging_equals_plain_per_sentence_tagging(recipe_file, tmp_path):
    """The tagging path (length-sorted batches of 128, the character LSTM run once per distinct token of
    the whole input) gives every sentence of a real slice the tags that tagging it alone gives."""
    import torch

    from zsner.data import tags as tagging
    from zsner.data.conll import Sentence, read_conll
    from zsner.training import checkpoint
    from zsner.training.predict import predict

    Trainer(load_recipe(recipe_file, {"training.epochs": 10}), tmp_path / "run").run()
    model, vocabs = checkpoint.load_model(tmp_path / "run" / "best.pt", "cpu")
    batcher = vocabs.batcher()
    sentences = read_conll(recipe_file.parent / "train.conll", scheme="iob1")[:300]
    fast = predict(model, batcher, sentences, vocabs.scheme, batch_size=128)
    plain = []
    model.eval()
    with torch.inference_mode():
        for sentence in sentences:
            batch = batcher.batch([Sentence(sentence.tokens, [], sentence.line)], [0])
            path = model.decode(batch)[0]
            plain.append(tagging.to_iob2([vocabs.tags.items[t] for t in path], vocabs.scheme))
    assert len({len(s) for s in sentences}) > 20  # many lengths: real bucketing and padding
    assert fast == plain
    assert sum(t != "O" for tags in fast for t in tags) > 50  # the model tags entities at all
