"""Figure 3 of Bari et al.: t-SNE of NER-tagged words of the two languages, in three spaces — (a) the
monolingual vectors, (b) the mapped vectors, (c) the outputs of a trained Cross-Shared model's common
encoder — coloured by NER tag and marked by language.

The picture the paper draws: before mapping the two languages lie apart; after mapping words of one tag
come closer across languages; the shared encoder's states group by tag more than by language. Gold tags
are read only to colour and to pick the samples (an analysis of a finished run, never training input).
t-SNE is scikit-learn's (``TSNE(init="pca")``, seeded), not ours.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from zsner.data.conll import Sentence, read_conll
from zsner.embeddings.vectors import load_vectors
from zsner.errors import ZsnerError

TYPES = ("PER", "LOC", "ORG", "MISC", "O")
COLOURS = {"PER": "tab:red", "LOC": "tab:blue", "ORG": "tab:green", "MISC": "tab:orange", "O": "tab:gray"}


@dataclass
class Sample:
    """One tagged word occurrence: language, word, tag type, and where it stands."""

    language: str
    word: str
    kind: str
    sentence: int
    position: int


def tagged_samples(sentences: list[Sentence], language: str, per_type: int, seed: int,
                   usable: set[str] | None = None) -> list[Sample]:
    """Up to ``per_type`` distinct words of each tag type (PER, LOC, ORG, MISC, O), each at its first
    occurrence, drawn at random (seeded); only words in ``usable`` when given (they need a vector)."""
    first: dict[tuple[str, str], Sample] = {}
    for i, sentence in enumerate(sentences):
        for j, (word, tag) in enumerate(zip(sentence.tokens, sentence.tags)):
            kind = "O" if tag == "O" else tag[2:]
            if kind in TYPES and (usable is None or word in usable) and (kind, word) not in first:
                first[(kind, word)] = Sample(language, word, kind, i, j)
    rng = random.Random(seed)
    out: list[Sample] = []
    for kind in TYPES:
        pool = sorted((s for (k, _), s in first.items() if k == kind), key=lambda s: s.word)
        out += rng.sample(pool, min(per_type, len(pool)))
    return out


def shared_model(run: Path):
    """The run's target-dev choice (model, vocabularies), whose common encoder panel (c) reads."""
    from zsner.cross.bundle import load_cross

    model, vocabs, payload = load_cross(run / "select-tgt-dev.pt")
    if payload["kind"] != "source":
        raise ZsnerError("Figure 3 (c) reads a source variant's encoder (Cross-Shared), not a Cross-Augmented run", run)
    return model, vocabs


def encoder_states(model, vocabs, language: str, sentences: list[Sentence], samples: list[Sample]) -> np.ndarray:
    """The common encoder's output at each sample, each read in its own sentence."""
    from zsner.data.batching import bucketed_batches

    batcher = vocabs.batcher(language)
    wanted = sorted({s.sentence for s in samples})
    plain = [Sentence(sentences[i].tokens, [], sentences[i].line) for i in wanted]
    states: dict[int, torch.Tensor] = {}
    with torch.inference_mode():
        for idx in bucketed_batches([len(s) for s in plain], 64, rng=None):
            batch = batcher.batch(plain, idx)
            out = model.encoder(batch)
            for row, i in enumerate(idx):
                states[wanted[i]] = out[row, : len(plain[i])]
    return np.stack([states[s.sentence][s.position].numpy() for s in samples])


def _run_settings(run: Path) -> dict:
    path = run / "config.json"
    if not path.is_file():
        raise ZsnerError("not a run directory of zsner cross train (no config.json)", run)
    config = json.loads(path.read_text())
    if config.get("cross", {}).get("model") != "cross-shared":
        raise ZsnerError(f"Figure 3 needs a Cross-Shared run, this one is {config.get('cross', {}).get('model')!r}", run)
    return config


def figure3(run: Path, out: Path, samples: int = 1000, seed: int = 1) -> Path:
    """Write ``out`` (PNG, three panels) and ``out`` with .csv (every point's coordinates); returns the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    config = _run_settings(run)
    src, tgt = config["data"]["language"], config["target"]["language"]
    mapped_dir = Path(config["cross"]["mapped_dir"])
    corpora = {src: read_conll(config["data"]["train"], scheme=config["data"]["scheme"], encoding=config["data"]["encoding"]),
               tgt: read_conll(config["target"]["dev"], scheme=config["target"]["scheme"], encoding=config["target"]["encoding"])}
    mono = {lang: load_vectors(config["vectors"][lang]) for lang in (src, tgt)}
    mapped = {lang: load_vectors(mapped_dir / f"{lang}.vec") for lang in (src, tgt)}
    per_type = max(1, samples // (2 * len(TYPES)))
    chosen = {lang: tagged_samples(corpora[lang], lang, per_type, seed,
                                   set(mono[lang].index) & set(mapped[lang].index)) for lang in (src, tgt)}
    points = chosen[src] + chosen[tgt]
    model = shared_model(run)  # loaded once for both languages
    panels = {
        "(a) monolingual vectors": np.concatenate([np.stack([mono[s.language].vector(s.word) for s in chosen[lang]])
                                                   for lang in (src, tgt)]),
        "(b) mapped vectors": np.concatenate([np.stack([mapped[s.language].vector(s.word) for s in chosen[lang]])
                                              for lang in (src, tgt)]),
        "(c) common encoder of Cross-Shared": np.concatenate([encoder_states(*model, lang, corpora[lang], chosen[lang])
                                                              for lang in (src, tgt)]),
    }
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    rows = []
    for ax, (title, matrix) in zip(axes, panels.items()):
        matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        xy = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, len(points) / 4)).fit_transform(matrix)
        for p, (x, y) in zip(points, xy):
            rows.append((title, p.language, p.word, p.kind, float(x), float(y)))
        for lang, marker in ((src, "o"), (tgt, "^")):
            for kind in TYPES:
                keep = [i for i, p in enumerate(points) if p.language == lang and p.kind == kind]
                ax.scatter(xy[keep, 0], xy[keep, 1], s=9, marker=marker, c=COLOURS[kind], alpha=0.7,
                           label=f"{lang} {kind}")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(fontsize=7, ncol=2, loc="best", markerscale=1.5)
    fig.suptitle(f"{src}–{tgt}: {len(chosen[src])} + {len(chosen[tgt])} NER-tagged words (t-SNE); {run}")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    import csv

    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["panel", "language", "word", "tag", "x", "y"])
        writer.writerows(rows)
    return out
