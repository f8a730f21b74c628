"""The discriminator of an adversarial map sees only context vectors of distilled builds (issue 11).

The prefix rule is checked against a brute force over every prefix; the cap against build summaries
as `zsner embed distill` writes them (``VEC.distill.json``), including the ones it must refuse.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zsner.embeddings.distill import leading_context_words as prefix_of
from zsner.errors import ZsnerError
from zsner.mapping.config import MappingConfig
from zsner.mapping.distilled import discriminator_words, recorded_context_prefix


def _brute_force_prefix(has_context: np.ndarray, share: float) -> int:
    return max((n for n in range(1, len(has_context) + 1) if has_context[:n].mean() >= share), default=0)


@pytest.mark.parametrize("seed", range(6))
def test_prefix_is_the_longest_run_with_enough_context_vectors(seed):
    rng = np.random.default_rng(seed)
    n = 400
    # context vectors thin out with rank, as in a sampled pass
    has_context = rng.random(n) < np.linspace(1.05, -0.2, n)
    for share in (0.5, 0.9, 0.95, 1.0):
        assert prefix_of(has_context, share) == _brute_force_prefix(has_context, share)


def test_prefix_edge_cases():
    assert prefix_of(np.zeros(0, bool)) == 0
    assert prefix_of(np.zeros(5, bool)) == 0
    assert prefix_of(np.ones(7, bool)) == 7


def _summary(tmp_path: Path, name: str, **fields) -> Path:
    vec = tmp_path / f"{name}.vec"
    vec.write_text("1 2\nx 0 0\n", encoding="utf-8")
    Path(f"{vec}.distill.json").write_text(json.dumps(fields), encoding="utf-8")
    return vec


def _context(tmp_path, name, prefix, words=None):
    """(a build's .vec path, its words as read): distinct lower-case words unless ``words`` are given."""
    vec = _summary(tmp_path, name, settings={"method": "context"}, leading_context_words=prefix)
    return vec, words if words is not None else [f"w{i}" for i in range(prefix + 5_000)]


def test_adversarial_map_is_capped_at_the_shorter_context_prefix(tmp_path):
    said = []
    cfg = discriminator_words(MappingConfig(), (_context(tmp_path, "en", 12_000), _context(tmp_path, "es", 20_000)),
                              said.append)
    assert cfg.dis_most_frequent == 12_000 and len(said) == 1 and "12000" in said[0]


@pytest.mark.parametrize("cfg", [MappingConfig(seed_dictionary="identical"), MappingConfig(dis_context_only=False),
                                 MappingConfig(dis_most_frequent=5_000), MappingConfig.muse_like()])
def test_no_cap_where_it_does_not_apply(tmp_path, cfg):
    before = cfg.dis_most_frequent
    discriminator_words(cfg, (_context(tmp_path, "en", 12_000), _context(tmp_path, "es", 20_000)), print)
    assert cfg.dis_most_frequent == before


def test_a_side_read_within_its_context_prefix_caps_nothing(tmp_path):
    """A full-pass build (or max_vocab inside the prefix): every row read has a context vector, so the
    other side alone decides, and where neither side ends its prefix early nothing is capped or said."""
    full = _context(tmp_path, "full", 100_000, [f"w{i}" for i in range(40_000)])
    said = []
    cfg = discriminator_words(MappingConfig(), (full, _context(tmp_path, "es", 20_000)), said.append)
    assert cfg.dis_most_frequent == 20_000 and "full.vec" not in said[0]
    cfg = discriminator_words(MappingConfig(), (full, full), said.append)
    assert cfg.dis_most_frequent == 75_000 and len(said) == 1


def test_vectors_of_one_kind_are_not_capped(tmp_path):
    trained = tmp_path / "fasttext.vec"
    trained.write_text("1 2\nx 0 0\n", encoding="utf-8")
    alone = _summary(tmp_path, "alone", settings={"method": "alone"})
    assert recorded_context_prefix(trained) is None and recorded_context_prefix(alone) is None
    assert discriminator_words(MappingConfig(), ((trained, ["x"]), (alone, ["x"])), print).dis_most_frequent == 75_000


def test_old_or_useless_builds_are_refused_with_the_file_named(tmp_path):
    old = _summary(tmp_path, "old", settings={"method": "context"}, words_alone_fallback=3)
    with pytest.raises(ZsnerError, match="build it again") as e:
        discriminator_words(MappingConfig(), ((old, ["x"]), (old, ["x"])), print)
    assert "old.vec.distill.json" in str(e.value)
    with pytest.raises(ZsnerError, match="too few"):
        discriminator_words(MappingConfig(), (_context(tmp_path, "thin", 200), _context(tmp_path, "es", 20_000)), print)
    broken = tmp_path / "broken.vec"
    Path(f"{broken}.distill.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ZsnerError, match="unreadable"):
        recorded_context_prefix(broken)


def test_the_cap_counts_the_lower_cased_forms_the_map_sees(tmp_path):
    """The summary counts the file's cased rows; the lower-cased view merges `The`/`the`, so its context
    prefix is shorter, and the file's count would reach alone-encoded words in the view."""
    words = [w for i in range(3_000) for w in (f"Word{i}", f"word{i}")] + [f"rare{i}" for i in range(20_000)]
    lowered = MappingConfig()
    assert lowered.lowercase_vocabulary
    side = _context(tmp_path, "mixed", 6_000, words)  # the first 6,000 rows: 3,000 forms, each in two casings
    said = []
    discriminator_words(lowered, (side, side), said.append)
    assert lowered.dis_most_frequent == 3_000 and "lower-cased forms" in said[0]
    cased = MappingConfig(lowercase_vocabulary=False)
    discriminator_words(cased, (side, side), print)
    assert cased.dis_most_frequent == 6_000
