"""`zsner data fetch`: copies from a mirror, checks SHA-256, decodes to UTF-8, clear errors."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import NER, REPO, corpus
from zsner.data.fetch import fetch, load_sources
from zsner.errors import ZsnerError


def test_sources_list_every_shared_file_with_its_checksum():
    if not (NER / "SHA256SUMS").is_file():
        pytest.skip(f"shared gold data not found under {NER}")
    listed = {s.path: s.sha256 for s in load_sources()}
    shipped = dict(reversed(line.split()) for line in (NER / "SHA256SUMS").read_text().splitlines())
    assert listed == shipped


def test_fetch_decodes_latin1_to_utf8(tmp_path):
    corpus("conll2002/esp.testb")
    written = fetch(tmp_path, NER, only=["conll2002/esp.testb"])
    assert written == [tmp_path / "conll2002/esp.testb"]
    original = (NER / "conll2002/esp.testb").read_bytes().decode("latin-1")
    assert written[0].read_text(encoding="utf-8") == original


def test_checksum_mismatch_is_refused(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "ar").mkdir(parents=True)
    data = corpus("ar/ar.testb.iob2").read_bytes()
    (mirror / "ar/ar.testb.iob2").write_bytes(data.replace(b"B-PER", b"B-LOC", 1))
    with pytest.raises(ZsnerError, match=r"^ar/ar.testb.iob2: SHA-256 mismatch"):
        fetch(tmp_path / "out", mirror, only=["ar/ar.testb.iob2"])
    assert not (tmp_path / "out/ar/ar.testb.iob2").exists()


def test_missing_file_without_url_names_it(tmp_path):
    with pytest.raises(ZsnerError, match=r"^fi/fi.testa.iob2: not found .*--mirror"):
        fetch(tmp_path / "out", tmp_path, only=["fi/fi.testa.iob2"])


def test_fetch_command(tmp_path):
    corpus("conll2003/eng.testb")
    mirror = tmp_path / "mirror"
    shutil.copytree(NER / "conll2003", mirror / "conll2003")
    result = subprocess.run([sys.executable, "-m", "zsner", "data", "fetch", "--mirror", str(mirror), "--out",
                             str(tmp_path / "out"), "--only", "conll2003/"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out/conll2003").iterdir()) == sorted(p.name for p in (NER / "conll2003").iterdir())
    bad = subprocess.run([sys.executable, "-m", "zsner", "data", "fetch", "--mirror", str(tmp_path / "none")],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("none: mirror folder not found")


def test_a_stored_copy_whose_checksum_no_longer_holds_is_fetched_again(tmp_path, caplog):
    """A copy fetched before a corpus was replaced (the damaged Dutch file) is refreshed, with one line."""
    corpus("conll2002/ned.testa")
    out = tmp_path / "out"
    [target] = fetch(out, NER, only=["conll2002/ned.testa"])
    clean = target.read_bytes()
    target.write_bytes(clean.replace("ë".encode(), b"\xef\xbd\xa5E", 3))  # what the Shift-JIS trip left
    with caplog.at_level("WARNING"):
        fetch(out, NER, only=["conll2002/ned.testa"])
    assert target.read_bytes() == clean
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith(f"{target}: stored copy does not match the checksum")


def test_a_copy_that_still_matches_is_not_rewritten(tmp_path):
    """make rebuilds what read a corpus when the copy's time changes: an unchanged file must keep it."""
    corpus("conll2002/esp.testb")
    [target] = fetch(tmp_path, NER, only=["conll2002/esp.testb"])
    old = target.stat().st_mtime_ns
    os.utime(target, ns=(old - 10**9, old - 10**9))
    fetch(tmp_path, NER, only=["conll2002/esp.testb"])
    assert target.stat().st_mtime_ns == old - 10**9
