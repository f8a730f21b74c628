"""Model-transfer speed: zsner's fine-tuning loop versus a plain Hugging Face token-classification loop.

Same encoder, same English sentences, same optimiser (AdamW, lr 5e-5, weight decay 0.01, linear warm-up
and decay), same batch size, in the same process. The plain loop is what the transformers examples do:
``AutoModelForTokenClassification``, labels on first sub-tokens (-100 elsewhere), shuffled batches padded
to their longest sentence, every weight trained. zsner's loop: length-bucketed batches (little padding),
the 250k-row word-embedding matrix frozen (no gradient, no AdamW update of 96M parameters), its own head —
first in fp32 like the plain loop, then, where the machine computes bf16 natively, with zsner's default
bf16 autocast.
Both are then scored with zsner's conlleval-equal scorer on English dev and target dev (the ratio only
counts at equal F1), and their tagging speed is measured on the same dev sentences.

Run:  python bench/bench_transfer.py [--train 1024] [--threads 2] [--device cpu|cuda] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import torch

from zsner.data import tags as tagging
from zsner.data.batching import bucketed_batches
from zsner.data.conll import read_conll
from zsner.encoders.loading import load_encoder, load_tokenizer
from zsner.metrics import score
from zsner.transfer.features import collate, encode_sentences
from zsner.transfer.model import TransferTagger
from zsner.transfer.optim import Optimisers, clip_dense, prepare_embeddings
from zsner.transfer.predict import encode_corpus, predict_encoded
from zsner.encoders.precision import autocast_for, resolve_precision


def plain_batches(tokenizer, sentences, tag_ids, max_length):
    """Hugging Face style: tokenise with truncation, label first sub-tokens, -100 elsewhere."""
    encoded = tokenizer([s.tokens for s in sentences], is_split_into_words=True, truncation=True, max_length=max_length)
    examples = []
    for i in range(len(sentences)):
        labels, previous = [], None
        for word in encoded.word_ids(i):
            labels.append(-100 if word is None or word == previous else tag_ids[i][word])
            previous = word
        examples.append((encoded["input_ids"][i], labels))
    return examples


def pad(examples, pad_id):
    steps = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), steps), pad_id)
    labels = torch.full((len(examples), steps), -100)
    mask = torch.zeros((len(examples), steps), dtype=torch.long)
    for row, (x, y) in enumerate(examples):
        ids[row, : len(x)], labels[row, : len(y)], mask[row, : len(x)] = torch.tensor(x), torch.tensor(y), 1
    return ids, mask, labels


def train_plain(args, tokenizer, train, tag_ids, num_tags, device):
    from transformers import AutoModelForTokenClassification, get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    model = AutoModelForTokenClassification.from_pretrained(args.encoder, num_labels=num_tags, local_files_only=True).to(device)
    examples = plain_batches(tokenizer, train, tag_ids, 256)
    order = list(range(len(examples)))
    random.Random(args.seed).shuffle(order)
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.1 * len(batches)), len(batches))
    model.train()
    start = time.perf_counter()
    for chosen in batches:
        ids, mask, labels = (t.to(device) for t in pad([examples[i] for i in chosen], tokenizer.pad_token_id))
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
    return model, len(train) / (time.perf_counter() - start)


def tag_plain(model, tokenizer, sentences, tag_items, batch, device):
    """Predictions at first sub-tokens, in the input order, batches padded to their longest (plain inference)."""
    model.eval()
    start = time.perf_counter()  # tokenising counts, as in zsner's tag_zsner: a user tags text, not ids
    encoded = tokenizer([s.tokens for s in sentences], is_split_into_words=True, truncation=True, max_length=256)
    out = []
    with torch.inference_mode():
        for first in range(0, len(sentences), batch):
            rows = list(range(first, min(first + batch, len(sentences))))
            ids, mask, _ = pad([(encoded["input_ids"][i], []) for i in rows], tokenizer.pad_token_id)
            best = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.argmax(-1).cpu()
            for row, i in enumerate(rows):
                tags, previous = ["O"] * len(sentences[i]), None
                for position, word in enumerate(encoded.word_ids(i)):
                    if word is not None and word != previous:
                        tags[word] = tag_items[int(best[row, position])]
                    previous = word
                out.append(tags)
    return out, len(sentences) / (time.perf_counter() - start)


def train_zsner(args, tokenizer, train, tag_ids, num_tags, device, autocast=None):
    torch.manual_seed(args.seed)
    model = TransferTagger(load_encoder(args.encoder), num_tags, "linear").to(device)
    prepare_embeddings(model, "frozen")
    windows = encode_sentences(tokenizer, train, 256, "bench train")
    labels = [tag_ids[w.sentence][w.start : w.start + w.words] for w in windows]
    batches = bucketed_batches([len(w.input_ids) for w in windows], args.batch, np.random.default_rng(args.seed))
    optimisers = Optimisers(model, args.lr, args.lr, 0.01, len(batches), 0.1, False)
    model.train()
    start = time.perf_counter()
    for chosen in batches:
        batch = collate([windows[i] for i in chosen], tokenizer.pad_token_id, [labels[i] for i in chosen]).to(device)
        optimisers.zero_grad()
        with autocast or nullcontext():
            loss = model.loss(batch)
        loss.backward()
        clip_dense(model, 1.0)
        optimisers.step()
    return model, len(train) / (time.perf_counter() - start)


def tag_zsner(model, tokenizer, sentences, tag_items, batch, device, autocast=None):
    start = time.perf_counter()
    predicted = predict_encoded(model, encode_corpus(tokenizer, sentences, 256, batch), tag_items, "iob2", device,
                                autocast)
    return predicted, len(sentences) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="data/encoders/e5-small")
    parser.add_argument("--train", type=int, default=1024, help="English training sentences (one epoch)")
    parser.add_argument("--dev", type=int, default=500, help="dev sentences of each language scored")
    parser.add_argument("--target-dev", default="data/ner/conll2002/esp.testa")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--tag-batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    train = read_conll("data/ner/conll2003/eng.train", scheme="iob1")[: args.train]
    dev = {"en": read_conll("data/ner/conll2003/eng.testa", scheme="iob1")[: args.dev],
           "target": read_conll(args.target_dev)[: args.dev]}
    tag_items = tagging.tag_inventory(tagging.entity_types(s.tags for s in train), "iob2")
    index = {t: i for i, t in enumerate(tag_items)}
    tag_ids = [[index[t] for t in s.tags] for s in train]
    tokenizer = load_tokenizer(args.encoder)
    results = {"machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {device}",
               "train_sentences": len(train), "batch": args.batch}
    loops = [("plain", train_plain, tag_plain), ("zsner-fp32", train_zsner, tag_zsner)]
    mixed = autocast_for(resolve_precision("auto", device), device)
    if mixed is not None:  # this machine computes bf16 natively: zsner's default there
        loops.append(("zsner-bf16", partial(train_zsner, autocast=mixed), partial(tag_zsner, autocast=mixed)))
    for name, train_loop, tag_loop in loops:
        model, train_speed = train_loop(args, tokenizer, train, tag_ids, len(tag_items), device)
        row = {"train_sentences_per_second": round(train_speed, 2)}
        for language, sentences in dev.items():
            predicted, tag_speed = tag_loop(model, tokenizer, sentences, tag_items, args.tag_batch, device)
            row[f"{language}_dev_f1"] = round(score([s.tags for s in sentences], predicted).f1, 2)
            row[f"{language}_tag_sentences_per_second"] = round(tag_speed, 1)
        results[name] = row
        print(name, json.dumps(row), flush=True)
        del model
    for name, _, _ in loops[1:]:
        for what, key in (("train", "train_sentences_per_second"), ("tag", "target_tag_sentences_per_second")):
            results[f"{what}_ratio_{name}"] = round(results[name][key] / results["plain"][key], 2)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
