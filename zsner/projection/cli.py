"""``zsner stage NAME RECIPE``: one pseudo-labelling stage of a pair, pseudo-labels then student.

Every stage has the same command shape (recipe, run options, ``--labels-from``); only its help differs, so
the commands are made from :data:`HELP` by one function."""
from __future__ import annotations

from pathlib import Path

import click

from zsner.cli_options import recipe_overrides, run_options
from zsner.projection.config import STAGES

labels_option = click.option(
    "--labels-from", type=click.Path(path_type=Path), default=None, metavar="RUN",
    help="Train on the pseudo-labels of another run of this stage instead of labelling again (an ablation that "
         "changes only the student: --set stages.loss=ce, stages.init=encoder, stages.with_source=true).")

#: each stage's help (first line: its summary in `zsner stage --help`) and the --set example of its options
HELP: dict[str, tuple[str, str]] = {
    "selftrain": ("""Self-training on the English model's labels of target text.

RECIPE's [stages] teacher (a finished `zsner transfer train` run's best-src-dev.pt) tags
[target] unlabelled, the sentences it is sure of ([stages.selftrain] min_confidence) are kept, and a
student starting from the teacher is fine-tuned on them with the re-weighted loss (Li et al.), scored
like every transfer run (F1• and F1°). pseudo/report.json says how many sentences were kept and, where
the unlabelled file has gold tags (never read for training), how good the pseudo-labels are.
^C saves the state; the same command resumes. Example, the CE ablation:
zsner stage selftrain recipes/es.toml --set stages.loss=ce
""", "stages.selftrain.min_confidence=0.9"),
    "wordalign": ("""Project English labels through aligned parallel text.

RECIPE's [stages] teacher tags the English side of [stages.wordalign]
parallel (`make parallel-X` builds it from the LibreOffice help), eflomal aligns the words, each English
entity is copied onto the target words it is aligned to (pairs with an unaligned or overlapping entity
are dropped and counted), and a student starting from the teacher is fine-tuned on the target sides.
pseudo/report.json counts pairs kept, dropped by reason and entities per type. ^C saves the state; the
same command resumes. Example, every pair instead of the recipe's first 10,000:
zsner stage wordalign recipes/es.toml --set stages.wordalign.max_pairs=0
""", "stages.wordalign.max_pairs=0"),
    "crop": ("""CROP: translate, tag, translate back with entity markers, match.

Each sentence of RECIPE's [target] unlabelled is translated into English ([stages.crop] translator:
Debian's Apertium, en<->es; or two local Hugging Face seq2seq folders), tagged by [stages] teacher,
translated back with its entities wrapped in <bN>...</bN> markers, and each entity is matched word by
word onto the original sentence (sentences with an unmatched or overlapping entity are dropped and
counted). A student starting from the teacher is fine-tuned on the original sentences.
pseudo/report.json says how each entity matched and, where the unlabelled file has gold tags (never read
for training), how good the labels are. ^C saves the state; the same command resumes.
Example: zsner stage crop recipes/es.toml --set stages.crop.max_sentences=2000
""", "stages.crop.max_sentences=2000"),
    "entityalign": ("""Li et al.'s entity-alignment projection over parallel text.

RECIPE's [stages] teacher tags the English side of [stages.entityalign] parallel; eflomal's word-aligned
projections of the pairs that project cleanly, plus a quarter of fake-entity negatives, train an
alignment model on the encoder (English entity as segment A, target sentence as segment B, a word is
inside the entity or not); the model then finds every English entity in its target sentence (pairs with
an unmapped or overlapping entity are dropped and counted), and a student starting from the teacher is
fine-tuned on the target sides. pseudo/report.json has the alignment model's held-out word P/R/F1.
^C saves the student's state; the same command resumes. Example, the paper's size:
zsner stage entityalign recipes/es.toml --set stages.entityalign.train_examples=30000
""", "stages.entityalign.train_examples=30000"),
}


@click.group()
def stage() -> None:
    """Stages that pseudo-label target-language text with the English model and fine-tune it on the result."""


def _stage_command(name: str) -> None:
    text, example = HELP[name]

    @stage.command(name, help=text)
    @click.argument("recipe", type=click.Path(path_type=Path))
    @run_options(f"Where pseudo-labels, log, checkpoints and metrics go (default: runs/{name}-<name>/<head>-<loss>).",
                 example)
    @labels_option
    def command(recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...], restart: bool,
                labels_from: Path | None) -> None:
        _run(name, recipe, run_dir, seed, sets, restart, labels_from)


for _name in STAGES:
    _stage_command(_name)


def _run(name: str, recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...],
         restart: bool, labels_from: Path | None) -> None:
    from zsner.projection.config import load_stage_recipe
    from zsner.projection.run import run_stage

    loaded = load_stage_recipe(recipe, name, recipe_overrides(sets, seed))
    run_dir = run_dir or Path("runs") / f"{name}-{loaded.base.name}" / f"{loaded.transfer.head}-{loaded.stages.loss}"
    metrics = run_stage(loaded, run_dir, restart, labels_from)
    report = metrics["pseudo"]
    quality = report.get("quality", {}).get("kept")
    click.echo(f"{loaded.pair} {name}: kept {report['kept']} of {report['sentences_in']} sentences, "
               f"{sum(report['entities'].values())} entities"
               + (f" (their pseudo-labels against gold: F1 {quality['f1']:.2f})" if quality else ""))
    click.echo(f"{loaded.pair} {loaded.student(Path()).model_name}: target test F1• {metrics['f1_tgt_dev_selected']:.2f}"
               f" (target-dev selected), F1° {metrics['f1_src_dev_selected']:.2f} (source-dev selected)")
    click.echo(f"run directory: {run_dir}")
