"""Vectors I/O, malformed-input errors, normalisation and fastText training on real CoNLL text."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zsner.embeddings.normalize import normalize, parse_spec
from zsner.embeddings.vectors import Embeddings, load_bin, load_vectors, read_vec, write_vec
from zsner.errors import ZsnerError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENG_TRAIN = SHARED / "ner" / "conll2003" / "eng.train"


def _sentences(path: Path, limit: int) -> list[str]:
    out, cur = [], []
    for line in path.read_text("ascii").splitlines():
        cols = line.split()
        if not cols:
            if cur:
                out.append(" ".join(cur))
                if len(out) == limit:
                    break
            cur = []
        elif cols[0] != "-DOCSTART-":
            cur.append(cols[0])
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A small fastText model trained on 4000 real English sentences (a few seconds)."""
    if not ENG_TRAIN.is_file():
        pytest.skip(f"{ENG_TRAIN} not found")
    from zsner.embeddings.train import TrainSettings, train_vectors

    d = tmp_path_factory.mktemp("ft")
    corpus = d / "en.txt"
    corpus.write_text("\n".join(_sentences(ENG_TRAIN, 4000)) + "\n", "utf-8")
    s = TrainSettings(dim=16, epoch=1, min_count=2, bucket=200_000, thread=1, verbose=0)
    summary = train_vectors(corpus, d / "en", s, echo=lambda m: None)
    assert summary["tokens"] == sum(len(x.split()) for x in corpus.read_text().splitlines())
    return d / "en.bin", d / "en.vec"


def test_trained_vec_and_bin_agree(trained):
    bin_path, vec_path = trained
    vec, binv = read_vec(vec_path), load_bin(bin_path)
    assert vec.words == binv.words
    assert vec.dim == 16 and len(vec) > 1000
    np.testing.assert_allclose(vec.matrix, binv.matrix, rtol=1e-4, atol=1e-5)
    # fastText sorts by frequency: the comma and the full stop lead any news corpus
    assert set(vec.words[:3]) & {",", ".", "the"}
    assert "Germany" in vec and "the" in vec


def test_round_trip_and_max_vocab(trained, tmp_path):
    _, vec_path = trained
    emb = read_vec(vec_path)
    out = tmp_path / "copy.vec"
    write_vec(emb, out)
    again = read_vec(out)
    assert again.words == emb.words
    np.testing.assert_allclose(again.matrix, emb.matrix, rtol=1e-4, atol=1e-6)
    top = read_vec(vec_path, max_vocab=100)
    assert top.words == emb.words[:100]
    np.testing.assert_array_equal(top.matrix, emb.matrix[:100])
    assert not list(tmp_path.glob("*.tmp")), "atomic write left a temp file"


def _write(tmp_path: Path, content: bytes, name: str = "bad.vec") -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    "content, line, words",
    [
        (b"2 3\na 1 2 3\nb 1 2\n", 3, "row has 2 numbers"),
        (b"2 3\na 1 2 3\nb 1 2 3 4\n", 3, "row has 4 numbers"),
        (b"2 x\na 1 2 3\n", 1, "bad header"),
        (b"a 1 2 3\nb 1 2 3\n", 1, "bad header"),
        (b"2 3\na 1 2 3\nb\xff\xfe 1 2 3\n", 3, "UTF-8"),
        (b"2 3\na 1 2 3\nb 1 zz 3\n", 3, "not a number"),
        (b"3 3\na 1 2 3\nb 1 2 3\n", 3, "header says 3 rows"),
        (b"1 3\na 1 2 3\nb 1 2 3\n", 3, "more rows"),
    ],
)
def test_malformed_vec_names_file_and_line(tmp_path, content, line, words):
    p = _write(tmp_path, content)
    with pytest.raises(ZsnerError) as e:
        read_vec(p)
    assert e.value.path == str(p) and e.value.line == line
    assert str(e.value).startswith(f"{p}:{line}: ") and words in str(e.value)


def test_duplicates_keep_first_or_error(tmp_path, caplog):
    p = _write(tmp_path, b"3 2\na 1 2\nb 3 4\na 5 6\n")
    emb = read_vec(p)
    assert emb.words == ["a", "b"]
    np.testing.assert_array_equal(emb.vector("a"), [1, 2])
    assert f"{p}:4" in caplog.text
    with pytest.raises(ZsnerError) as e:
        read_vec(p, on_duplicate="error")
    assert e.value.line == 4 and "first on line 2" in str(e.value)


def test_missing_files_are_user_errors(tmp_path):
    with pytest.raises(ZsnerError, match="no such"):
        load_vectors(tmp_path / "nope.vec")
    with pytest.raises(ZsnerError, match="no such"):
        load_vectors(tmp_path / "nope.bin")
    junk = _write(tmp_path, b"not a model", "junk.bin")
    with pytest.raises(ZsnerError) as e:
        load_bin(junk)
    assert e.value.path == str(junk)


def test_normalisations(trained):
    _, vec_path = trained
    m = read_vec(vec_path).matrix
    u = normalize(m.copy(), "unit")
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-5)
    c = normalize(m.copy(), "center")
    np.testing.assert_allclose(c.mean(0), 0.0, atol=1e-5)
    ucu = normalize(m.copy(), "unit,center,unit")
    np.testing.assert_allclose(np.linalg.norm(ucu, axis=1), 1.0, atol=1e-5)
    # after the final unit step the mean is no longer exactly 0, but smaller than without centring
    assert np.linalg.norm(ucu.mean(0)) < 0.6 * np.linalg.norm(u.mean(0))
    zero = np.zeros((2, 3), np.float32)
    assert not np.isnan(normalize(zero, "unit")).any()
    assert parse_spec(" unit , none,center") == ["unit", "center"]
    with pytest.raises(ZsnerError, match="unknown normalisation 'length'"):
        parse_spec("unit,length")


def test_embeddings_container():
    emb = Embeddings(["x", "y", "z"], np.arange(6, dtype=np.float64).reshape(3, 2))
    assert emb.matrix.dtype == np.float32 and emb.index == {"x": 0, "y": 1, "z": 2}
    sub = emb.subset(["z", "nope", "x"])
    assert sub.words == ["z", "x"] and sub.matrix.tolist() == [[4, 5], [0, 1]]
    with pytest.raises(ValueError):
        Embeddings(["a", "a"], np.zeros((2, 2)))


def test_cli_normalize_and_info(tmp_path):
    from click.testing import CliRunner

    from zsner.embeddings.cli import embed

    src = _write(tmp_path, b"3 2\nthe 3 4\ncat 0 2\ndog 1 0\n", "in.vec")
    out = tmp_path / "out.vec"
    r = CliRunner().invoke(embed, ["normalize", str(src), str(out), "--spec", "center"])
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(read_vec(out).matrix.mean(0), 0, atol=1e-4)  # .vec keeps 5 digits
    r = CliRunner().invoke(embed, ["info", str(src), "-n", "cat"])
    assert r.exit_code == 0 and "3 words x 2" in r.output and r.output.splitlines()[-1].startswith("cat: the 0.80")
    r = CliRunner().invoke(embed, ["normalize", str(src), str(out), "--spec", "sphere"])
    assert isinstance(r.exception, ZsnerError) and "sphere" in str(r.exception)


def test_training_into_a_log_writes_a_few_lines_not_progress_updates(trained, tmp_path):
    """`make vectors > log`: fastText's live progress (thousands of carriage-return updates) stays off a
    log; its summary lines and zsner's remain."""
    import subprocess
    import sys

    from conftest import REPO

    corpus = tmp_path / "en.txt"
    corpus.write_text("\n".join(_sentences(ENG_TRAIN, 20000)) + "\n", "utf-8")  # a few seconds of training
    done = subprocess.run([sys.executable, "-m", "zsner", "embed", "train", str(corpus), str(tmp_path / "en"),
                           "--dim", "16", "--epoch", "5", "--minn", "0", "--threads", "2"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    log = done.stdout + done.stderr
    # fastText writes its progress ("Progress: 1.2% words/sec/thread ...") several times a second
    assert log.count("Progress:") <= 1 and len(log.splitlines()) < 15, log[-500:]
    assert (tmp_path / "en.vec").is_file()


def test_one_thread_training_is_repeatable_after_the_heap_has_been_used(trained, tmp_path):
    """fasttext-numpy2 leaves most of its input matrix uninitialised (fasttext_worker explains it): trained
    in this long-lived process, the same settings gave NaN or a different model in about half the runs.
    Two runs after churning the heap must now give the same vectors, bit for bit."""
    from zsner.embeddings.train import TrainSettings, train_vectors

    corpus = tmp_path / "en.txt"
    corpus.write_text("\n".join(_sentences(ENG_TRAIN, 2000)) + "\n", "utf-8")
    s = TrainSettings(dim=16, epoch=1, min_count=2, bucket=200_000, thread=1, verbose=0)
    matrices = []
    for run in range(2):
        garbage = [np.random.default_rng(run).normal(size=n).astype(np.float32) for n in (50_000, 3_000_000)]
        del garbage  # freed buffers full of non-zero floats, for a careless allocator to hand back
        train_vectors(corpus, tmp_path / f"run{run}", s, echo=lambda m: None)
        matrices.append(read_vec(tmp_path / f"run{run}.vec").matrix)
    assert np.isfinite(matrices[0]).all()
    np.testing.assert_array_equal(matrices[0], matrices[1])
