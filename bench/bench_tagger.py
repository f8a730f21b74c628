"""Tagger speed: zsner versus a plain Lample-style BiLSTM-CRF, in the same run, on CoNLL-2003 English.

Both models have the same sizes and are trained with the same SGD settings on the same sentences;
the benchmark reports training sentences/second at batch 16 for each and the ratio, then zsner's tagging
speed at batch 128 on eng.testb. Run:  python bench/bench_tagger.py [--batches 150] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lample_baseline import LampleTagger, tensorise  # noqa: E402

from zsner.data import tags as tagging  # noqa: E402
from zsner.data.batching import bucketed_batches  # noqa: E402
from zsner.data.conll import read_conll  # noqa: E402
from zsner.model.tagger import CrfTagger  # noqa: E402
from zsner.training.predict import make_batches, predict_batches  # noqa: E402
from zsner.training.recipe import load_recipe  # noqa: E402
from zsner.training.trainer import build_vocabularies, clip_gradients  # noqa: E402


def train_baseline(model, batches, train, tag_lists, vocabs, device):
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    sentences = 0
    start = time.perf_counter()
    for chosen in batches:
        tensors = tensorise([train[i] for i in chosen], [tag_lists[i] for i in chosen], vocabs.words, vocabs.chars,
                            vocabs.tags, vocabs.normaliser)
        tensors = [t.to(device) for t in tensors]
        optimiser.zero_grad()
        loss = model.loss(*tensors)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        sentences += len(chosen)
    return sentences / (time.perf_counter() - start)


def train_zsner(model, batches, train, tag_lists, batcher, device):
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.SGD(parameters, lr=0.1)
    model.train()
    sentences = 0
    start = time.perf_counter()
    for chosen in batches:
        batch = batcher.batch(train, chosen, [tag_lists[i] for i in chosen]).to(device)
        optimiser.zero_grad(set_to_none=True)
        loss = model.loss(batch)
        loss.backward()
        clip_gradients(parameters, 5.0)
        optimiser.step()
        sentences += len(chosen)
    return sentences / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="recipes/en.toml")
    parser.add_argument("--batches", type=int, default=150, help="training batches timed per model")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tag-batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per model (median reported)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    recipe = load_recipe(args.recipe)
    train = read_conll(recipe.data.train, scheme=recipe.data.scheme)
    test = read_conll(recipe.data.test, scheme=recipe.data.scheme)
    tag_lists = [tagging.from_iob2(s.tags, "iobes") for s in train]
    vocabs = build_vocabularies(recipe, train)
    batcher = vocabs.batcher()
    sizes = (len(vocabs.words), len(vocabs.chars), len(vocabs.tags))

    rng = random.Random(0)
    shuffled = list(range(len(train)))
    rng.shuffle(shuffled)
    plain_batches = [shuffled[i : i + args.batch_size] for i in range(0, len(shuffled), args.batch_size)][: args.batches]
    bucketed = bucketed_batches([len(s) for s in train], args.batch_size, np.random.default_rng(0))[: args.batches]

    torch.manual_seed(0)
    baseline = LampleTagger(*sizes).to(device)
    zsner_model = CrfTagger(recipe.model, *sizes).to(device)
    # Warm-up (allocator, thread pools), then the timed runs, alternating to share any machine noise.
    train_baseline(baseline, plain_batches[:5], train, tag_lists, vocabs, device)
    train_zsner(zsner_model, bucketed[:5], train, tag_lists, batcher, device)
    base_rounds, zsner_rounds, tag_rounds = [], [], []
    for _ in range(args.rounds):
        base_rounds.append(train_baseline(baseline, plain_batches, train, tag_lists, vocabs, device))
        zsner_rounds.append(train_zsner(zsner_model, bucketed, train, tag_lists, batcher, device))
        start = time.perf_counter()  # tagging includes building the tensors of the test set
        predict_batches(zsner_model, make_batches(batcher, test, args.tag_batch_size), vocabs.tags.items, "iobes", device)
        tag_rounds.append(len(test) / (time.perf_counter() - start))
    base_speed, zsner_speed, tag_speed = (float(np.median(r)) for r in (base_rounds, zsner_rounds, tag_rounds))

    figures = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} threads, {device}",
        "train_batch_size": args.batch_size,
        "baseline_train_sentences_per_s": round(base_speed, 1),
        "zsner_train_sentences_per_s": round(zsner_speed, 1),
        "speed_ratio": round(zsner_speed / base_speed, 2),
        "zsner_tag_sentences_per_s": round(tag_speed, 1),
        "tag_batch_size": args.tag_batch_size,
        "rounds": {"baseline": base_rounds, "zsner": zsner_rounds, "tagging": tag_rounds},
    }
    print(f"median of {args.rounds} alternating rounds of {len(bucketed)} batches each")
    print(f"training, batch {args.batch_size}:  baseline {base_speed:8.1f} sent/s   zsner {zsner_speed:8.1f} sent/s   ratio {zsner_speed / base_speed:.2f}x")
    print(f"tagging,  batch {args.tag_batch_size}: zsner {tag_speed:8.1f} sent/s (eng.testb, {len(test)} sentences, includes tensorising)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
