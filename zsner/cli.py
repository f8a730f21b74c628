"""The ``zsner`` command. Each sub-command is a thin shell over a library function.

Errors in the user's input (:class:`~zsner.errors.ZsnerError`) are printed as one line, ``file:line:
problem``, with exit status 2; ^C exits with 130 after the running job has saved its state.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from zsner.cli_options import recipe_overrides, run_options
from zsner.errors import ZsnerError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail to stderr.")
@click.version_option(package_name="zsner")
def cli(verbose: bool) -> None:
    """zsner: zero-resource cross-lingual NER (Bari, Joty & Jwalapuram, AAAI 2020).

    Typical use: `zsner data fetch`, then `zsner train recipes/en.toml`, then
    `zsner evaluate --model runs/train-en FILE` or `zsner predict --model runs/train-en FILE`.
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s",
                        stream=sys.stderr)
    logging.getLogger("faiss").setLevel(logging.DEBUG if verbose else logging.WARNING)  # its loader is chatty


@cli.group()
def data() -> None:
    """Gold NER corpora: fetch and verify."""


@data.command("fetch")
@click.option("--mirror", type=click.Path(path_type=Path), default=None,
              help="Folder holding the original files (default: ../shared/data/ner when it exists).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("data/ner"), show_default=True,
              help="Where the UTF-8 copies go.")
@click.option("--only", multiple=True, help="Fetch only files whose path starts with this (e.g. conll2003/).")
@click.option("--force", is_flag=True, help="Fetch again even if the file is already there.")
def data_fetch(mirror: Path | None, out: Path, only: tuple[str, ...], force: bool) -> None:
    """Copy every corpus of sources.toml into data/ner as UTF-8, checking SHA-256 sums.

    Files come from a local mirror folder when it has them, else from their upstream URL.
    """
    from zsner.data.fetch import DEFAULT_MIRROR, fetch

    if mirror is None and DEFAULT_MIRROR.is_dir():
        mirror = DEFAULT_MIRROR
    elif mirror is not None and not mirror.is_dir():
        raise ZsnerError("mirror folder not found", mirror)
    written = fetch(out, mirror, list(only) or None, force)
    click.echo(f"{len(written)} corpus files ready in {out} (checked against sources.toml when fetched)")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print P/R/F1 (percent) overall and per type as JSON.")
@click.option("--encoding", default="utf-8", show_default=True)
def score(file: Path, as_json: bool, encoding: str) -> None:
    """Score FILE in conlleval's format: the last two columns are the gold and predicted tags.

    Prints conlleval's summary (or JSON), computed exactly as conlleval does.
    """
    from zsner.metrics import read_conlleval_file

    scores = read_conlleval_file(file, encoding)
    click.echo(json.dumps(_json_scores(scores), indent=2) if as_json else scores.report())


def _json_scores(scores) -> dict:
    full = scores.as_dict()
    return {key: full[key] for key in ("precision", "recall", "f1", "per_type")}


@cli.command()
@click.argument("recipe", type=click.Path(path_type=Path))
@run_options("Where config, log, checkpoints and metrics go (default: runs/train-<name>, runs/mono-<language> "
             "with --target-language).", "training.epochs=5")
@click.option("--target-language", "on_target", is_flag=True,
              help="RECIPE is a language pair's: train a supervised tagger of its target language instead, on "
              "[target] unlabelled with its gold tags, [target] dev and test, the pair's model and training tables "
              "(the paper's Table 2; `make table2`).")
def train(recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...], restart: bool,
          on_target: bool) -> None:
    """Train the BiLSTM-CRF tagger described by RECIPE (a TOML file in recipes/).

    An interrupted run (^C) resumes when the same command is run again.
    """
    from zsner.training.recipe import load_recipe, target_recipe
    from zsner.training.trainer import Trainer

    loaded = (target_recipe if on_target else load_recipe)(recipe, recipe_overrides(sets, seed))
    run_dir = run_dir or Path("runs") / (f"mono-{loaded.name}" if on_target else f"train-{loaded.name}")
    metrics = Trainer(loaded, run_dir, restart=restart).run()
    for split in ("dev", "test"):
        if split in metrics:
            click.echo(f"{split} F1 {metrics[split]['f1']:.2f}")
    click.echo(f"run directory: {run_dir}")


@cli.command()
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path),
              help="A run directory (its best.pt: the target-dev choice of a cross-lingual or transfer run; "
              "best-src-dev.pt is the source-dev one), runs/train-X (its final stage) or a .pt file.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--scheme", default="iob2", show_default=True, help="Tag scheme of FILE: iob1, iob2 or iobes.")
@click.option("--encoding", default="utf-8", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Also write token/gold/predicted CoNLL here.")
@click.option("--json", "as_json", is_flag=True, help="Print scores as JSON.")
@click.option("--batch-size", default=128, show_default=True)
def evaluate(model_path: Path, file: Path, scheme: str, encoding: str, out: Path | None, as_json: bool, batch_size: int) -> None:
    """Tag a labelled CoNLL FILE with a trained model and score it like conlleval."""
    from zsner.bundles import load_tagger
    from zsner.data.conll import read_conll, write_conll
    from zsner.metrics import score as score_tags

    tagger = load_tagger(model_path)
    sentences = read_conll(file, scheme=scheme, encoding=encoding)
    predicted = tagger.tag(sentences, batch_size)
    scores = score_tags([s.tags for s in sentences], predicted)
    if out is not None:
        write_conll(out, sentences, predicted)
    click.echo(json.dumps(_json_scores(scores), indent=2) if as_json else scores.report())


@cli.command("predict")
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path),
              help="A run directory (its best.pt: the target-dev choice of a cross-lingual or transfer run; "
              "best-src-dev.pt is the source-dev one), runs/train-X (its final stage) or a .pt file.")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--input", "input_kind", type=click.Choice(["auto", "text", "tokens", "conll"]), default="auto",
              show_default=True, help="text: raw text, sentences split and punctuation cut off as in the CoNLL "
              "files; tokens: one sentence a line, tokens separated by spaces; conll: tokens in the first column; "
              "auto: conll when every line looks like 'token TAG', else text.")
@click.option("--format", "fmt", type=click.Choice(["conll", "json"]), default="conll", show_default=True,
              help="conll: 'token tag' lines; json: one JSON object a sentence with its tokens, tags and entities "
              "(type, start, end: character offsets into the input line, which slice it back to the entity text).")
@click.option("--lang", default=None, help="Language of raw text, for sentence splitting and tokenisation "
              "[default: the language the model was exported for].")
@click.option("--encoding", default="utf-8", show_default=True)
@click.option("--scheme", default="iob2", show_default=True, help="Tag scheme to write: iob1, iob2 or iobes.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output file (default: stdout).")
@click.option("--batch-size", default=128, show_default=True)
def predict_command(model_path: Path, file: Path, input_kind: str, fmt: str, lang: str | None, encoding: str,
                    scheme: str, out: Path | None, batch_size: int) -> None:
    """Tag FILE (raw text, tokenised text or CoNLL; - for standard input) with a trained model. Text is read
    and tagged in blocks, so a long input streams with bounded memory."""
    from zsner.bundles import load_tagger
    from zsner.data import tags as tagging

    try:
        tagging.check_scheme(scheme)
    except ValueError as err:
        raise ZsnerError(f"--scheme: {err}") from None
    tagger = load_tagger(model_path)
    lang = lang or tagger.language or "xx"
    items = _predict_input(file, input_kind, encoding, lang)
    handle = open(out, "w", encoding="utf-8") if out is not None else None
    count = 0
    try:
        for block in _blocks(items, 8 * batch_size):
            predicted = tagger.tag([item.sentence for item in block], batch_size)
            for item, tags in zip(block, predicted):
                text = _format_prediction(item, tags, fmt, scheme)
                if handle is not None:
                    handle.write(text + "\n")
                else:
                    click.echo(text)
            count += len(block)
    finally:
        if handle is not None:
            handle.close()
    if not count:
        raise ZsnerError("no sentences to tag", file)
    if out is not None:
        click.echo(f"{count} sentences tagged → {out}", err=True)


def _predict_input(path: Path, kind: str, encoding: str, lang: str):
    """The input of `zsner predict` as a stream of :class:`zsner.raw_text.TextSentence`."""
    from zsner.data.conll import read_tokens, read_unlabelled
    from zsner.raw_text import TextSentence, read_raw_lines

    if str(path) == "-":
        lines = sys.stdin
        if kind in ("auto", "conll", "tokens"):  # these need the whole input to decide or to group lines
            lines = list(lines)
        source: Path | None = None
    else:
        if not path.is_file():
            raise ZsnerError("no such file", path)
        source = path
        lines = None
    if kind == "auto":
        from zsner.data.conll import looks_like_conll

        sample = lines[:200] if lines is not None else _head(source, encoding, 200)
        kind = "conll" if looks_like_conll(sample) else "text"
    if kind == "text":
        return read_raw_lines(lines if lines is not None else _lines_of(source, encoding), lang)
    if lines is not None:  # the readers take a file: stdin goes through a temporary one
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "stdin.txt"
            source.write_text("".join(lines), encoding="utf-8")
            sentences = read_unlabelled(source, "utf-8") if kind == "conll" else read_tokens(source, "utf-8")
    else:
        sentences = read_unlabelled(source, encoding) if kind == "conll" else read_tokens(source, encoding)
    return (TextSentence(s, [(-1, -1)] * len(s.tokens), " ".join(s.tokens), s.line) for s in sentences)


def _lines_of(path: Path, encoding: str):
    """The lines of ``path``, read lazily; the file is closed when they are used up."""
    with open(path, encoding=encoding) as handle:
        yield from handle


def _head(path: Path, encoding: str, n: int) -> list[str]:
    with open(path, encoding=encoding) as handle:
        return [line for _, line in zip(range(n), handle)]


def _blocks(items, size: int):
    block = []
    for item in items:
        block.append(item)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def _format_prediction(item, tags: list[str], fmt: str, scheme: str) -> str:
    from zsner.data import tags as tagging

    if fmt == "json":
        import json

        from zsner.raw_text import entity_spans

        return json.dumps({"line": item.line, "text": item.text, "tokens": item.sentence.tokens, "tags": tags,
                           "entities": entity_spans(item, tags)}, ensure_ascii=False)
    return "\n".join(f"{token} {tag}" for token, tag in zip(item.sentence.tokens, tagging.from_iob2(tags, scheme))) + "\n"


@cli.command()
@click.argument("pair")
@click.option("--runs", "runs_dirs", type=click.Path(path_type=Path), multiple=True,
              help="Folder searched for run metrics (default: runs/train-PAIR, runs/transfer-PAIR, every stage's "
                   "runs/STAGE-PAIR and runs/STAGE-PAIR-VARIANT (selftrain, wordalign, crop, entityalign), "
                   "runs/table/PAIR, and the same of every vector kind: runs/train-PAIR-KIND, runs/table-KIND/PAIR).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output prefix (default: runs/compare-PAIR).")
def compare(pair: str, runs_dirs: tuple[Path, ...], out: Path | None) -> None:
    """Every model of PAIR (es, nl, de, ar, fi) side by side: the embedding baseline's rows, model
    transfer's and the pseudo-labelling stages', same target test set, same scorer, F1• and F1°,
    parameters, train time, published figures. Writes OUT.md and OUT.csv."""
    from zsner.compare import compare_rows, write_comparison
    from zsner.projection.config import STAGES

    stage_runs = [p for stage in STAGES for p in (Path(f"runs/{stage}-{pair}"), *sorted(Path("runs").glob(f"{stage}-{pair}-*")))]
    runs = runs_dirs or tuple(p for p in (Path(f"runs/train-{pair}"), Path(f"runs/transfer-{pair}"), *stage_runs,
                                          Path(f"runs/table/{pair}"), *sorted(Path("runs").glob(f"train-{pair}-*")),
                                          *sorted(Path("runs").glob(f"table-*/{pair}"))) if p.is_dir())
    rows = compare_rows(f"en-{pair}", runs)
    if not rows:
        raise ZsnerError(f"no finished run of en-{pair} found (run `make train-{pair}` or `make transfer-{pair}`)",
                         ", ".join(map(str, runs)) or "runs")
    out = out or Path(f"runs/compare-{pair}")
    click.echo(write_comparison(rows, out))
    click.echo(f"wrote {out}.md and {out}.csv", err=True)


def _register_stage_commands() -> None:
    """Commands of the other pipeline stages live beside their code; the group collects them here."""
    from zsner.cross.cli import cross, table, table2
    from zsner.embeddings.cli import corpus, dict_group, embed
    from zsner.encoders.cli import encoders
    from zsner.mapping.cli import map_command
    from zsner.projection.cli import stage
    from zsner.transfer.cli import transfer

    for command in (embed, corpus, dict_group, map_command, cross, table, table2, transfer, stage, encoders):
        cli.add_command(command)


_register_stage_commands()


def main() -> None:
    """Console entry point: run the CLI, turning user errors into one line and ^C into exit 130."""
    try:
        cli.main(standalone_mode=False)
    except ZsnerError as err:
        click.echo(f"zsner: error: {err}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("zsner: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("zsner: interrupted; state saved, run the same command again to resume", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
