"""Model transfer (zsner.transfer) on a tiny random encoder over real CoNLL slices: windows, the two heads,
both selections, exact resume after ^C, tagging through `zsner evaluate/predict`, one-line errors.

The real converted e5-small is exercised in tests/test_transfer_e5.py; here the encoder is a random
2-layer BERT so that every behaviour is checked in seconds.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from transfer_fixtures import recipe
from zsner.data.conll import Sentence, read_conll
from zsner.errors import ZsnerError
from zsner.transfer import trainer as trainer_module
from zsner.transfer.config import load_transfer_recipe
from zsner.transfer.features import collate, encode_sentences, special_tokens
from zsner.transfer.trainer import TransferTrainer

pytest.importorskip("transformers")


# -- windows --------------------------------------------------------------------------------------

def test_windows_label_first_sub_tokens_and_split_long_sentences(tiny, slices):
    from zsner.encoders.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny)
    sentences = read_conll(slices["es_test"])
    windows = encode_sentences(tokenizer, sentences, max_subwords=16, what="test")
    prefix, suffix = special_tokens(tokenizer)
    assert prefix and suffix  # [CLS] ... [SEP]
    covered = {i: [] for i in range(len(sentences))}
    for window in windows:
        assert len(window.input_ids) <= 16
        assert window.input_ids[: len(prefix)] == prefix and window.input_ids[-len(suffix):] == suffix
        covered[window.sentence].extend(range(window.start, window.start + window.words))
    # every word of every sentence lands in exactly one window, in order: nothing is cut
    assert all(covered[i] == list(range(len(s))) for i, s in enumerate(sentences))
    assert any(sum(w.sentence == i for w in windows) > 1 for i in range(len(sentences)))
    # the first sub-token of each word is where the fast tokenizer's word_ids say the word starts
    whole = tokenizer([s.tokens for s in sentences], is_split_into_words=True)
    for window in windows:
        if window.start == 0 and sum(w.sentence == window.sentence for w in windows) == 1:
            word_ids = whole.word_ids(window.sentence)
            starts = [word_ids.index(i) for i in range(window.words)]
            assert window.first == starts


def test_collate_pads_and_marks_words(tiny):
    from zsner.encoders.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny)
    windows = encode_sentences(tokenizer, [Sentence(["Madrid", "es", "grande"]), Sentence(["Hola"])], 32)
    batch = collate(windows, tokenizer.pad_token_id, [[1, 0, 0], [2]])
    assert batch.input_ids.shape[0] == 2 and batch.lengths.tolist() == [3, 1]
    assert batch.attention_mask[1].sum() == len(windows[1].input_ids)
    assert batch.tags.tolist() == [[1, 0, 0], [2, 0, 0]]
    assert batch.has_piece.tolist() == [[True, True, True], [True, False, False]]


# -- training runs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("head", ["linear", "crf"])
def test_a_run_trains_selects_both_ways_and_tags(tmp_path, slices, tiny, head, one_torch_thread):
    loaded = load_transfer_recipe(recipe(tmp_path, slices, tiny, head=head))
    run = tmp_path / "run"
    metrics = TransferTrainer(loaded, run).run()
    for name in ("config.json", "versions.json", "log.txt", "history.jsonl", "last.pt", "best.pt", "best-src-dev.pt",
                 "metrics.json", "test.tgt-dev-selected.predictions.conll", "test.src-dev-selected.predictions.conll"):
        assert (run / name).is_file(), name
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    from zsner.encoders.loading import load_tokenizer

    windows = encode_sentences(load_tokenizer(tiny), read_conll(slices["en_train"], scheme="iob1"), 32)
    per_epoch = -(-len(windows) // 8)
    assert len(windows) > 120 and metrics["steps"] == 2 * per_epoch  # long sentences train as several windows
    assert [h["step"] for h in history] == [*range(6, 2 * per_epoch, 6), 2 * per_epoch]
    assert history[-1]["loss"] < history[0]["loss"]  # it learns
    best_src = max(h["src_dev_f1"] for h in history)
    assert metrics["src-dev-selected"]["dev_f1"] == pytest.approx(best_src, abs=0.01)
    assert metrics["model"] == f"transfer-{head}" and metrics["pair"] == "en-es" and "source_test_f1" in metrics
    assert metrics["trained_parameters"] < metrics["parameters"]  # frozen word embeddings
    # `zsner evaluate --model RUN` reads the tgt-dev bundle and reproduces F1• exactly
    result = subprocess.run([sys.executable, "-m", "zsner", "evaluate", "--model", str(run), str(slices["es_test"]),
                             "--json"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["f1"] == pytest.approx(metrics["f1_tgt_dev_selected"], abs=0.01)


def test_resume_after_interrupt_ends_where_an_uninterrupted_run_ends(tmp_path, slices, tiny, monkeypatch, one_torch_thread):
    path = recipe(tmp_path, slices, tiny, head="crf", dropout=0.3)
    whole = TransferTrainer(load_transfer_recipe(path), tmp_path / "whole").run()

    calls = {"n": 0}
    real_collate = trainer_module.collate

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 17:  # in the second epoch, between evaluations
            raise KeyboardInterrupt
        return real_collate(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "collate", interrupting)
    with pytest.raises(KeyboardInterrupt):
        TransferTrainer(load_transfer_recipe(path), tmp_path / "split").run()
    saved = torch.load(tmp_path / "split/last.pt", weights_only=False)
    assert saved["state"]["step"] == 16 and not saved["state"]["finished"]
    monkeypatch.setattr(trainer_module, "collate", real_collate)
    resumed = TransferTrainer(load_transfer_recipe(path), tmp_path / "split").run()
    for key in ("f1_tgt_dev_selected", "f1_src_dev_selected", "steps", "source_test_f1"):
        assert resumed[key] == whole[key], key
    a = torch.load(tmp_path / "whole/last.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "split/last.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_embeddings_modes_train_what_they_say(tmp_path, slices, tiny, one_torch_thread):
    from zsner.encoders.loading import load_encoder

    pretrained = load_encoder(tiny).get_input_embeddings().weight.detach().clone()
    rows = {}
    for mode in ("frozen", "sparse", "full"):
        run = tmp_path / mode
        TransferTrainer(load_transfer_recipe(recipe(tmp_path, slices, tiny, embeddings=mode, epochs=0.5)), run).run()
        state = torch.load(run / "last.pt", weights_only=False)["model"]
        table = state.get("encoder.embeddings.word_embeddings.weight")
        rows[mode] = None if table is None else int((table != pretrained).any(1).sum())
    assert rows["frozen"] is None  # not trained, not even stored
    assert 0 < rows["sparse"] and 0 < rows["full"]


# -- errors -----------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zsner", *args], cwd=REPO, capture_output=True, text=True)


def test_a_recipe_naming_a_missing_encoder_is_one_line(tmp_path, slices):
    path = recipe(tmp_path, slices, tmp_path / "no-such-encoder")
    result = _cli("transfer", "train", str(path), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no-such-encoder: encoder folder not found" in result.stderr


def test_bad_transfer_settings_name_the_recipe(tmp_path, slices, tiny):
    path = recipe(tmp_path, slices, tiny)
    for key, value, message in (("head", "softmax", "head = 'softmax' should be one of linear, crf"),
                                ("embeddings", "sometimes", "embeddings = 'sometimes'"),
                                ("colour", "red", "unknown key 'colour' in [transfer]")):
        with pytest.raises(ZsnerError, match=re.escape(message)) as err:
            load_transfer_recipe(path, {f"transfer.{key}": value})
        assert str(err.value).startswith(str(path))


def test_a_bundle_without_its_encoder_says_so(tmp_path, slices, tiny, one_torch_thread):
    import shutil

    encoder = shutil.copytree(tiny, tmp_path / "enc")
    run = tmp_path / "run"
    TransferTrainer(load_transfer_recipe(recipe(tmp_path, slices, encoder, epochs=0.3)), run).run()
    shutil.rmtree(encoder)
    result = _cli("predict", "--model", str(run), str(slices["es_test"]))
    assert result.returncode == 2 and "needs its encoder folder" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_compare_puts_transfer_rows_beside_the_published_figures(tmp_path, slices, tiny, one_torch_thread):
    runs = tmp_path / "runs"
    done = {head: TransferTrainer(load_transfer_recipe(recipe(tmp_path, slices, tiny, head=head, epochs=0.3)),
                                  runs / head).run() for head in ("linear", "crf")}
    result = _cli("compare", "es", "--runs", str(runs), "--out", str(tmp_path / "compare-es"))
    assert result.returncode == 0, result.stderr
    rows = {line.split(" | ")[0].strip("| "): line for line in (tmp_path / "compare-es.md").read_text().splitlines()
            if line.startswith("| transfer-")}
    assert set(rows) == {"transfer-linear", "transfer-crf"}
    for head, metrics in done.items():
        assert f"| {metrics['f1_tgt_dev_selected']:.2f} | {metrics['f1_src_dev_selected']:.2f} |" in rows[f"transfer-{head}"]
        assert rows[f"transfer-{head}"].endswith("mbert 75.2, xlmr-large 80.8 |")
    empty = _cli("compare", "nl", "--runs", str(runs))
    assert empty.returncode == 2 and "no finished run of en-nl" in empty.stderr


def test_retargeting_a_run_equals_training_for_the_other_language(tmp_path, slices, tiny, one_torch_thread):
    """Transfer trains on English only: en→nl from the en→es run's checkpoints is the en→nl run itself."""
    TransferTrainer(load_transfer_recipe(recipe(tmp_path, slices, tiny, "es", head="crf")), tmp_path / "es").run()
    nl_recipe = recipe(tmp_path, slices, tiny, "nl", head="crf")
    trained = TransferTrainer(load_transfer_recipe(nl_recipe), tmp_path / "nl-trained").run()
    result = _cli("transfer", "retarget", str(tmp_path / "es"), str(nl_recipe), "--run-dir", str(tmp_path / "nl"))
    assert result.returncode == 0, result.stderr
    retargeted = json.loads((tmp_path / "nl/metrics.json").read_text())
    assert retargeted["pair"] == "en-nl" and retargeted["retargeted_from"] == str(tmp_path / "es")
    for key in ("f1_tgt_dev_selected", "f1_src_dev_selected", "source_test_f1", "steps"):
        assert retargeted[key] == trained[key], key
    assert retargeted["tgt-dev-selected"]["step"] == trained["tgt-dev-selected"]["step"]
    other = recipe(tmp_path, slices, tiny, "nl", head="crf", lr=2e-3)
    refused = _cli("transfer", "retarget", str(tmp_path / "es"), str(other), "--run-dir", str(tmp_path / "nl2"))
    assert refused.returncode == 2 and "other English settings" in refused.stderr and "transfer.lr" in refused.stderr


def test_two_processes_train_what_one_process_trains(tmp_path, slices, tiny):
    """torchrun with 2 CPU processes (gloo): each takes half of every batch, DDP averages the gradients.

    With the CRF head's per-sentence mean loss and no dropout (head and encoder), the two halves' mean
    gradient is the whole batch's whenever a batch splits evenly; odd batches differ slightly. Measured:
    the two runs' encoder updates have cosine 1.0000 (0.96 with the encoder's dropout left on, whose random
    masks differ between processes).
    """
    import shutil

    encoder = shutil.copytree(tiny, tmp_path / "no-dropout")  # the encoder's own dropout off too
    config = json.loads((encoder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (encoder / "config.json").write_text(json.dumps(config))
    path = recipe(tmp_path, slices, encoder, head="crf", dropout=0.0, epochs=1.0, threads=1)
    one = TransferTrainer(load_transfer_recipe(path), tmp_path / "one").run()
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                             "29533", "-m", "zsner", "transfer", "train", str(path), "--run-dir", str(tmp_path / "two")],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    two = json.loads((tmp_path / "two/metrics.json").read_text())
    assert two["steps"] == one["steps"]
    from zsner.encoders.loading import load_encoder

    start = {f"encoder.{k}": v for k, v in load_encoder(encoder).state_dict().items()}
    a = torch.load(tmp_path / "one/last.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "two/last.pt", weights_only=False)["model"]
    moved_one = torch.cat([(a[k] - start[k]).flatten() for k in a if k in start])
    moved_two = torch.cat([(b[k] - start[k]).flatten() for k in a if k in start])
    # Adam turns float-level differences of near-zero gradients into ±lr steps, so compare where training
    # moved the encoder, not single weights
    similarity = float(torch.nn.functional.cosine_similarity(moved_one, moved_two, dim=0))
    assert similarity > 0.999, similarity
    assert result.stdout.count("target test F1") == 1  # only the first process reports
