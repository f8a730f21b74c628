"""FreeDict (dictd) parsing, MUSE dictionary output and the train/test split."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from zsner.embeddings.dictionaries import (
    DICTD_DIR, build_dictionary, clean_word, dictd_number, dictionary_pairs, filter_to_vocab,
    headword_of, read_pairs, split_pairs, translations_of,
)
from zsner.errors import ZsnerError

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(n: int) -> str:
    s = ""
    while True:
        s = _B64[n % 64] + s
        n //= 64
        if n == 0:
            return s


def _make_dictd(directory: Path, name: str, entries: list[str]) -> None:
    """A dictd database written the way dictfmt does: index of base64 offsets into a gzip body."""
    body, index = "", []
    for e in entries:
        raw = e.encode("utf-8")
        index.append(f"{e.split(' ', 1)[0].split(chr(10))[0]}\t{_b64(len(body.encode()))}\t{_b64(len(raw))}")
        body += e
    (directory / f"{name}.index").write_text("\n".join(index) + "\n", "utf-8")
    (directory / f"{name}.dict.dz").write_bytes(gzip.compress(body.encode("utf-8")))


def test_dictd_number():
    assert [dictd_number(s, Path("x"), 1) for s in ("A", "B", "gB", "BAA")] == [0, 1, 32 * 64 + 1, 4096]
    with pytest.raises(ZsnerError) as e:
        dictd_number("a-b", Path("x.index"), 7)
    assert str(e.value).startswith("x.index:7: ")


def test_entry_parsing_formats():
    assert headword_of("house /hˈaʊs/ <n>") == "house"
    assert headword_of("Estados Unidos /estˈaðos unˈiðos/") == "Estados Unidos"
    assert translations_of("box /bɔks/\n1. arca, caja\n2. estuche, jarro\n") == ["arca", "caja", "estuche", "jarro"]
    assert translations_of("Bali //ˈbɑːli// <pn>\nBali\nisland of Indonesia\n") == ["Bali"]  # gloss skipped
    assert translations_of('house /hˈaʊs/\nHaus <neut>\n      "build a house"  - ein Haus bauen\n') == ["Haus"]
    assert clean_word("Nieuw Guinea", "nl") is None and clean_word("Casa", "es") == "casa"
    assert clean_word("مُسَاعِد", "ar") == "مساعد" and clean_word("mackintosh", "ar") is None


def test_build_from_synthetic_dictd(tmp_path):
    _make_dictd(tmp_path, "freedict-eng-spa", ["boy /bɔi/\n1. chico, muchacho\n2. criado\n",
                                               "ice cream /x/\nhelado\n", "red /rɛd/\nrojo\n"])
    _make_dictd(tmp_path, "freedict-spa-eng", ["casa /kˈasa/\nhouse, home\n", "chico /x/\nboy\n"])
    pairs = dictionary_pairs("en", "es", tmp_path)
    assert pairs == sorted({("boy", "chico"), ("boy", "muchacho"), ("boy", "criado"), ("red", "rojo"),
                            ("house", "casa"), ("home", "casa")})
    counts = build_dictionary("en-es", tmp_path / "out", tmp_path, n_test=2, echo=lambda m: None)
    assert counts["all"] == 6 and counts["train"] + counts["test"] == 6
    train, test = read_pairs(tmp_path / "out/en-es.train.txt"), read_pairs(tmp_path / "out/en-es.test.txt")
    assert not {s for s, _ in train} & {s for s, _ in test}
    assert len({s for s, _ in test}) == 2
    with pytest.raises(ZsnerError, match="no FreeDict database for en-fi"):
        dictionary_pairs("en", "fi", tmp_path)


def test_split_and_filter():
    pairs = [(f"w{i}", f"t{i}") for i in range(100)] + [("w0", "u0")]
    train, test = split_pairs(pairs, n_test=10, rank={f"w{i}": i for i in range(100)})
    assert len({s for s, _ in test}) == 10 and len(train) + len(test) == len(pairs)
    assert all(int(s[1:]) < 50 for s, _ in test)  # drawn from the frequent half
    assert not {s for s, _ in train} & {s for s, _ in test}
    assert filter_to_vocab(pairs, {"w0", "w1"}, {"u0", "t1"}) == [("w1", "t1"), ("w0", "u0")]


def test_read_pairs_errors(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("casa house\nperro dog cat\n", "utf-8")
    with pytest.raises(ZsnerError) as e:
        read_pairs(p)
    assert str(e.value).startswith(f"{p}:2: ")


def test_real_freedict_eng_spa():
    if not (DICTD_DIR / "freedict-eng-spa.index").is_file():
        pytest.skip("dict-freedict-eng-spa not installed")
    pairs = dictionary_pairs("en", "es")
    d: dict[str, set[str]] = {}
    for s, t in pairs:
        d.setdefault(s, set()).add(t)
    assert len(pairs) > 5000 and len(d) > 3000
    assert {"chico", "muchacho"} <= d["boy"] and "casa" in d["house"]
    assert all(" " not in s and " " not in t and s == s.lower() for s, t in pairs)


def test_cli_dictionary_build(tmp_path):
    from click.testing import CliRunner

    from zsner.embeddings.cli import dict_group

    _make_dictd(tmp_path, "freedict-eng-spa", ["boy /bɔi/\nchico, muchacho\n", "red /rɛd/\nrojo\n"])
    out = tmp_path / "out"
    result = CliRunner().invoke(dict_group, ["build", "en-es", "--dictd-dir", str(tmp_path), "--out", str(out),
                                             "--test-words", "1"])
    assert result.exit_code == 0, result.output
    assert read_pairs(out / "en-es.txt") == [("boy", "chico"), ("boy", "muchacho"), ("red", "rojo")]
    result = CliRunner().invoke(dict_group, ["build", "en-fi", "--dictd-dir", str(tmp_path)])
    assert isinstance(result.exception, ZsnerError)  # left for the main entry point to print


def test_cli_dictionary_build_matches_vectors_in_any_casing(tmp_path):
    """The dictionaries are lower-case; a word the vectors hold only with a capital (a German noun, a
    name) is in the vocabulary all the same, as MUSE and `zsner map` read it."""
    import numpy as np
    from click.testing import CliRunner

    from zsner.embeddings.cli import dict_group
    from zsner.embeddings.vectors import Embeddings, write_vec

    _make_dictd(tmp_path, "freedict-eng-spa", ["boy /bɔi/\nchico, muchacho\n", "red /rɛd/\nrojo\n"])
    write_vec(Embeddings(["Boy", "red"], np.ones((2, 3), np.float32)), tmp_path / "en.vec")
    write_vec(Embeddings(["Chico", "CHICO", "rojo"], np.ones((3, 3), np.float32)), tmp_path / "es.vec")
    out = tmp_path / "out"
    result = CliRunner().invoke(dict_group, ["build", "en-es", "--dictd-dir", str(tmp_path), "--out", str(out),
                                             "--test-words", "1", "--src-vectors", str(tmp_path / "en.vec"),
                                             "--tgt-vectors", str(tmp_path / "es.vec")])
    assert result.exit_code == 0, result.output
    assert read_pairs(out / "en-es.txt") == [("boy", "chico"), ("red", "rojo")]  # muchacho has no vector
