"""Li et al.'s entity alignment model (``000_…`` §3.1, §4.2): the model side, without the stage around it.

Word order changes in translation, so an English entity cannot be copied onto the target sentence word by
word. Li et al. make the search a token-classification task: an encoder reads the English entity name as
segment A and the target sentence as segment B, and predicts for every word of segment B 1 when it is
inside the entity's translation, 0 otherwise; the translation is assumed to stay one contiguous phrase.

What this module holds:

* :func:`build_examples`: the training set. Li et al. took (entity, sentence) pairs from Wikipedia anchors
  and machine translation; here they come from word-aligned projections of the parallel text itself
  (:func:`zsner.projection.wordalign.project`), one example per English entity of each pair whose
  projection succeeded, plus a share of negatives (§4.2: "faked English entities which did not appear
  in the other language's sentence", 25 %), so that the model must read segment A instead of tagging
  any name in segment B.
* :func:`encode_pairs`: a pair of word lists through the fast tokenizer (``truncation="only_second"``:
  a long sentence loses its tail, never the entity), each segment-B word labelled on its first sub-token.
* :class:`AlignmentModel`: the encoder with a 2-class linear head over every position.
* :class:`EntityAligner`: model + tokenizer + settings; :meth:`EntityAligner.train` (AdamW, a held-out
  5 % scored by word-level P/R/F1 as Li et al. report theirs) and :meth:`EntityAligner.find_all`,
  the longest contiguous run of words whose probability reaches the threshold.

Spans are ``(start, end)`` word indices with ``end`` inclusive, as :func:`zsner.metrics.chunks` gives them.
"""
from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from zsner.data.batching import bucketed_batches
from zsner.data.tags import chunks
from zsner.projection.wordalign import Link, Pair, project
from zsner.transfer.losses import token_loss
from zsner.transfer.optim import Optimisers, clip_dense, prepare_embeddings

log = logging.getLogger("zsner.projection")

IGNORE = -100  # a position without a label (segment A, specials, later sub-tokens of a word, padding)
OUTSIDE, INSIDE = 0, 1
HELDOUT_SHARE = 0.05  # the "reserved test set" of §4.2

Span = tuple[int, int]  # (first word, last word), inclusive
Query = tuple[Sequence[str], Sequence[str]]  # (English entity words, target sentence words)


# --- training examples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignExample:
    """One training example: segment A, segment B, and a 0/1 label per word of segment B."""

    entity: tuple[str, ...]  # English entity words (segment A)
    target: tuple[str, ...]  # target sentence words (segment B)
    labels: tuple[int, ...]  # INSIDE on the words of the entity's translation; all OUTSIDE for a negative
    pair: int  # index of the parallel pair the target sentence comes from

    @property
    def negative(self) -> bool:
        return INSIDE not in self.labels


def _fold(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w.casefold() for w in words)


def _occurs(phrase: tuple[str, ...], words: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def positive_examples(pairs: Sequence[Pair], english_tags: Sequence[Sequence[str]],
                      links: Sequence[Sequence[Link]]) -> list[AlignExample]:
    """One example per English entity of every pair whose word-aligned projection succeeds.

    Only pairs that :func:`project` keeps are used: an entity without aligned words, or two entities whose
    spans overlap, would teach the model a span the aligner itself could not vouch for. Each entity's
    labels are its own projection (the same call with only that entity tagged), so they are exactly the
    span the whole pair's projection gives it.
    """
    out: list[AlignExample] = []
    for index, ((english, target), tags, pair_links) in enumerate(zip(pairs, english_tags, links)):
        found = chunks(tags)
        if not found or project(tags, len(target), pair_links)[0] is None:
            continue
        for kind, start, end in found:
            alone = ["O"] * len(tags)
            alone[start : end + 1] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start)
            projected, _ = project(alone, len(target), pair_links)
            assert projected is not None  # the pair's projection succeeded, so each entity's does
            out.append(AlignExample(tuple(english[start : end + 1]), tuple(target),
                                    tuple(int(t != "O") for t in projected), index))
    return out


def negative_examples(pairs: Sequence[Pair], english_tags: Sequence[Sequence[str]], count: int,
                      rng: random.Random) -> list[AlignExample]:
    """Up to ``count`` examples pairing a target sentence with an English entity of *another* pair that
    does not occur in it, labelled all OUTSIDE (§4.2's fake entities).

    "Does not occur": no word of the entity appears (ignoring case) among the target words — a shared
    name such as "LibreOffice" would be a translation there — and the entity is not a phrase of the pair's
    English side either (its translation would then be in the sentence without sharing a word with it).
    Distinct (entity, sentence) combinations only; fewer than ``count`` when the text has too few.
    """
    pool = [(index, tuple(english[start : end + 1]))
            for index, ((english, _), tags) in enumerate(zip(pairs, english_tags))
            for _, start, end in chunks(tags)]
    if count <= 0 or len({index for index, _ in pool}) < 2:
        return []
    english_folded = [_fold(english) for english, _ in pairs]
    target_words = [set(_fold(target)) for _, target in pairs]
    out: list[AlignExample] = []
    seen: set[tuple[tuple[str, ...], int]] = set()
    for _ in range(20 * count):
        if len(out) == count:
            break
        sentence = rng.randrange(len(pairs))
        source, entity = pool[rng.randrange(len(pool))]
        folded = _fold(entity)
        if (source == sentence or (entity, sentence) in seen or target_words[sentence] & set(folded)
                or _occurs(folded, english_folded[sentence])):
            continue
        seen.add((entity, sentence))
        target = pairs[sentence][1]
        out.append(AlignExample(entity, tuple(target), (OUTSIDE,) * len(target), sentence))
    return out


def build_examples(pairs: Sequence[Pair], english_tags: Sequence[Sequence[str]], links: Sequence[Sequence[Link]],
                   count: int, negatives: float, seed: int) -> list[AlignExample]:
    """``count`` training examples, a ``negatives`` share of them fake-entity negatives, shuffled.

    Positives are drawn without repetition from :func:`positive_examples`; when there are fewer than
    ``count · (1 − negatives)``, all of them are used and the negatives are scaled down with them, so
    the share Li et al. chose holds whatever the size of the parallel text. Same inputs and ``seed``,
    same examples.
    """
    rng = random.Random(seed)
    positives = positive_examples(pairs, english_tags, links)
    wanted = count - round(count * negatives)
    if len(positives) > wanted:
        positives = rng.sample(positives, wanted)
    elif len(positives) < wanted:
        log.info("entityalign: %d positive examples (English entities projected by word alignment) for the %d "
                 "asked; the negatives are scaled to keep their share", len(positives), wanted)
    n_negative = round(len(positives) * negatives / (1 - negatives)) if positives else 0
    fakes = negative_examples(pairs, english_tags, n_negative, rng)
    if len(fakes) < n_negative:
        log.warning("entityalign: only %d fake-entity negatives found for the %d wanted", len(fakes), n_negative)
    examples = positives + fakes
    rng.shuffle(examples)
    return examples


def split_heldout(examples: Sequence[AlignExample], share: float, seed: int
                  ) -> tuple[list[AlignExample], list[AlignExample]]:
    """(training, held-out) with about ``share`` of the examples held out, whole target sentences at a
    time: a sentence seen in training (as a positive, or another entity's negative) would make the
    held-out score one of memory. Nothing is held out from fewer than two sentences."""
    groups: dict[tuple[str, ...], list[AlignExample]] = defaultdict(list)
    for example in examples:
        groups[example.target].append(example)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    heldout: list[AlignExample] = []
    held: set[tuple[str, ...]] = set()
    for key in keys[: len(keys) - 1]:
        if len(heldout) >= share * len(examples):
            break
        heldout.extend(groups[key])
        held.add(key)
    return [e for e in examples if e.target not in held], heldout


# --- encoding ------------------------------------------------------------------------------------


@dataclass
class EncodedPair:
    """One (entity, sentence) pair as sub-word ids, with where each sentence word starts."""

    input_ids: list[int]
    token_type_ids: list[int] | None  # only where the tokenizer makes them (BERT: 1 on segment B)
    labels: list[int]  # per position: the word's label on each segment-B word's first sub-token, else IGNORE
    first: list[int]  # per target word: position of its first sub-token, -1 when cut off or without one


@dataclass
class EncodeStats:
    """What encoding had to give up; reported, since each is a word the model never sees."""

    pairs: int = 0
    cut_sentences: int = 0  # sentences whose tail did not fit the window
    cut_words: int = 0  # target words after the cut: predicted outside
    empty_words: int = 0  # target words the tokenizer turns into no sub-token: predicted outside
    clipped_entities: int = 0  # entities longer than half the window: their last words dropped

    def add(self, other: "EncodeStats") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _pair_specials(tokenizer: Any) -> int:
    """How many special tokens the tokenizer puts around a pair (``[CLS] A [SEP] B [SEP]``: 3; XLM-R: 4)."""
    encoded = tokenizer([["a"]], [["b"]], is_split_into_words=True)
    return sum(s is None for s in encoded.sequence_ids(0))


def _clip_entity(tokenizer: Any, words: tuple[str, ...], room: int) -> tuple[str, ...]:
    """The longest word prefix of ``words`` within ``room`` sub-tokens (a single over-long word is cut by
    characters), so that ``only_second`` truncation can always keep part of the sentence."""
    def pieces(candidate: Sequence[str]) -> int:
        return len(tokenizer([list(candidate)], is_split_into_words=True, add_special_tokens=False)["input_ids"][0])

    kept = list(words)
    while len(kept) > 1 and pieces(kept) > room:
        kept.pop()
    while pieces(kept) > room and len(kept[0]) > 1:
        kept[0] = kept[0][: len(kept[0]) // 2]
    return tuple(kept)


def encode_pairs(tokenizer: Any, queries: Sequence[Query], max_subwords: int,
                 word_labels: Sequence[Sequence[int]] | None = None, chunk: int = 1024
                 ) -> tuple[list[EncodedPair], EncodeStats]:
    """Every (entity words, target words) query as one window of at most ``max_subwords`` sub-words.

    Segment A is the entity, segment B the sentence (§3.1). The label of each segment-B word (``word_labels``;
    none at inference) sits on its first sub-token, found through the fast tokenizer's ``sequence_ids`` and
    ``word_ids``, as Hugging Face token classification does; every other position is IGNORE. A sentence too
    long for the window loses its tail (``truncation="only_second"``): those words get no position and are
    counted. An entity is clipped to half the window first, since the tokenizer refuses a pair whose first
    segment leaves the second no room.
    """
    stats = EncodeStats(pairs=len(queries))
    specials = _pair_specials(tokenizer)
    room = max(1, (max_subwords - specials) // 2)
    if max_subwords - specials < 2:
        raise ValueError(f"a window of {max_subwords} sub-words cannot hold an entity and a sentence")
    out: list[EncodedPair] = []
    for offset in range(0, len(queries), chunk):
        part = queries[offset : offset + chunk]
        if any(not entity or not target for entity, target in part):
            raise ValueError("an alignment query needs an entity and a sentence, both with words")
        entities = [tuple(entity) for entity, _ in part]
        lengths = tokenizer([list(e) for e in entities], is_split_into_words=True, add_special_tokens=False)
        for i, ids in enumerate(lengths["input_ids"]):
            if len(ids) > room:
                entities[i] = _clip_entity(tokenizer, entities[i], room)
                stats.clipped_entities += 1
        encoded = tokenizer([list(e) for e in entities], [list(t) for _, t in part], is_split_into_words=True,
                            truncation="only_second", max_length=max_subwords, verbose=False)
        types = encoded.get("token_type_ids")
        for i, (_, target) in enumerate(part):
            first = [-1] * len(target)
            for position, (segment, word) in enumerate(zip(encoded.sequence_ids(i), encoded.word_ids(i))):
                if segment == 1 and word is not None and first[word] < 0:
                    first[word] = position
            seen = [w for w, p in enumerate(first) if p >= 0]
            last = seen[-1] if seen else -1
            cut = len(target) - 1 - last
            stats.cut_words += cut
            stats.cut_sentences += cut > 0
            stats.empty_words += sum(p < 0 for p in first[: last + 1])
            ids = encoded["input_ids"][i]
            labels = [IGNORE] * len(ids)
            if word_labels is not None:
                for word, position in enumerate(first):
                    if position >= 0:
                        labels[position] = int(word_labels[offset + i][word])
            out.append(EncodedPair(ids, None if types is None else types[i], labels, first))
    return out, stats


@dataclass
class AlignBatch:
    """Padded tensors of a batch of encoded pairs."""

    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    token_type_ids: torch.Tensor | None  # [B, T]
    labels: torch.Tensor  # [B, T], IGNORE where no word starts

    def to(self, device: torch.device | str) -> "AlignBatch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return AlignBatch(move(self.input_ids), move(self.attention_mask), move(self.token_type_ids),
                          move(self.labels))


def collate(items: Sequence[EncodedPair], pad_id: int) -> AlignBatch:
    """Right-padded tensors of ``items``."""
    steps = max(len(item.input_ids) for item in items)
    input_ids = torch.full((len(items), steps), pad_id, dtype=torch.long)
    attention = torch.zeros((len(items), steps), dtype=torch.long)
    labels = torch.full((len(items), steps), IGNORE, dtype=torch.long)
    with_types = items[0].token_type_ids is not None
    types = torch.zeros((len(items), steps), dtype=torch.long) if with_types else None
    for row, item in enumerate(items):
        n = len(item.input_ids)
        input_ids[row, :n] = torch.tensor(item.input_ids)
        attention[row, :n] = 1
        labels[row, :n] = torch.tensor(item.labels)
        if types is not None:
            types[row, :n] = torch.tensor(item.token_type_ids)
    return AlignBatch(input_ids, attention, types, labels)


# --- the model -----------------------------------------------------------------------------------


class AlignmentModel(nn.Module):
    """Encoder + a linear 2-class head (outside, inside) over every position (Li et al.'s Fig. 1)."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.1):
        super().__init__()
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # never used for token classification, never trained
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, 2)

    def forward(self, batch: AlignBatch) -> torch.Tensor:
        """Scores ``[B, T, 2]`` (fp32) of every position."""
        extra = {} if batch.token_type_ids is None else {"token_type_ids": batch.token_type_ids}
        states = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **extra).last_hidden_state
        return self.classifier(self.dropout(states)).float()

    def loss(self, batch: AlignBatch) -> torch.Tensor:
        """Cross-entropy over the labelled positions (each segment-B word's first sub-token)."""
        keep = batch.labels != IGNORE
        return token_loss(self(batch)[keep], batch.labels[keep], "ce")

    def head_parameters(self) -> list[nn.Parameter]:
        """What :class:`zsner.transfer.optim.Optimisers` gives the head's learning rate."""
        return list(self.classifier.parameters())


def longest_run(probabilities: Sequence[float], threshold: float) -> Span | None:
    """The longest contiguous run of words with probability ≥ ``threshold`` (inclusive ends), or None.

    §3.1 assumes a translated entity stays one phrase, so one span per query; of equally long runs the one
    with the larger summed probability wins, then the first.
    """
    best: tuple[int, float, int] | None = None  # (length, sum, -start)
    start = -1
    for i, p in enumerate([*probabilities, -math.inf]):
        if p >= threshold:
            if start < 0:
                start = i
            continue
        if start >= 0:
            key = (i - start, float(sum(probabilities[start:i])), -start)
            if best is None or key > best:
                best = key
            start = -1
    return None if best is None else (-best[2], -best[2] + best[0] - 1)


def no_scores() -> dict[str, float | int | None]:
    """What :func:`word_scores` says when nothing was scored (no held-out example, no model trained)."""
    return {"precision": None, "recall": None, "f1": None, "examples": 0, "inside_words": 0}


def word_scores(predicted: Sequence[Sequence[float]], gold: Sequence[Sequence[int]], threshold: float
                ) -> dict[str, float | int | None]:
    """Word-level precision, recall and F1 (in %) of INSIDE words, a word predicted inside when its
    probability reaches ``threshold`` (how Li et al. score their alignment model: 98 % on their test set)."""
    tp = fp = fn = 0
    for probabilities, labels in zip(predicted, gold):
        for p, label in zip(probabilities, labels):
            inside = p >= threshold
            tp += inside and label == INSIDE
            fp += inside and label != INSIDE
            fn += not inside and label == INSIDE
    precision = 100 * tp / max(1, tp + fp)
    recall = 100 * tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    return {"precision": round(precision, 2), "recall": round(recall, 2), "f1": round(f1, 2),
            "examples": len(gold), "inside_words": tp + fn}


@dataclass
class TrainReport:
    """What training the alignment model did."""

    examples: int
    negatives: int
    heldout: dict[str, float | int | None]  # precision/recall/F1 None when nothing could be held out
    steps: int
    seconds: float
    encoding: dict[str, int] = field(default_factory=dict)


class EntityAligner:
    """The alignment model with its tokenizer, window and threshold: train it, then find entities."""

    def __init__(self, model: AlignmentModel, tokenizer: Any, max_subwords: int, min_probability: float = 0.5,
                 device: torch.device | str = "cpu", autocast: torch.autocast | None = None,
                 eval_batch_size: int = 64):
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.max_subwords = max_subwords
        self.min_probability = min_probability
        self.device = torch.device(device)
        self.autocast = autocast
        self.eval_batch_size = eval_batch_size
        self.stats = EncodeStats()  # of every query found so far

    @classmethod
    def from_encoder(cls, folder: str | Path, max_subwords: int, min_probability: float = 0.5,
                     device: torch.device | str = "cpu", autocast: torch.autocast | None = None,
                     eval_batch_size: int = 64, dropout: float = 0.1, seed: int = 0) -> "EntityAligner":
        """A fresh model on a local encoder folder (Li et al.: XLM-R); ``seed`` draws the head."""
        from zsner.encoders.loading import load_encoder, load_tokenizer

        torch.manual_seed(seed)
        model = AlignmentModel(load_encoder(folder), dropout)
        return cls(model, load_tokenizer(folder), max_subwords, min_probability, device, autocast, eval_batch_size)

    def _encode(self, queries: Sequence[Query], labels: Sequence[Sequence[int]] | None = None
                ) -> tuple[list[EncodedPair], EncodeStats]:
        encoded, stats = encode_pairs(self.tokenizer, queries, self.max_subwords, labels)
        if stats.cut_words or stats.clipped_entities:
            log.info("entityalign: %d of %d sentences longer than the %d-sub-word window lost %d words (read as "
                     "outside); %d entities clipped", stats.cut_sentences, stats.pairs, self.max_subwords,
                     stats.cut_words, stats.clipped_entities)
        return encoded, stats

    def train(self, examples: Sequence[AlignExample], epochs: float, lr: float, batch_size: int, seed: int,
              embeddings: str = "frozen", clip: float = 1.0) -> TrainReport:
        """Fine-tune on ``examples`` less a held-out 5 %, then score the held-out part.

        §4.2: AdamW at ``lr`` with Hugging Face's token-classification defaults (linear decay to 0, no
        warm-up, no weight decay, gradients clipped at 1), ``epochs`` passes in batches of ``batch_size``
        pairs of similar length (:func:`bucketed_batches`). ``embeddings`` is ``[transfer] embeddings``
        (frozen by default: the word-embedding matrix is most of a multilingual encoder and costs the most
        on a CPU). Torch is seeded with ``seed``, so a CPU run repeats.
        """
        started = time.perf_counter()
        torch.manual_seed(seed)
        train, heldout = split_heldout(examples, HELDOUT_SHARE, seed)
        encoded, stats = self._encode([(e.entity, e.target) for e in train], [e.labels for e in train])
        usable = [item for item in encoded if any(label != IGNORE for label in item.labels)]
        if not usable:
            raise ValueError("no training example has a target word left to label")
        model = self.model
        prepare_embeddings(model, embeddings)
        lengths = [len(item.input_ids) for item in usable]
        per_epoch = math.ceil(len(usable) / batch_size)
        total = max(1, math.ceil(epochs * per_epoch))
        optimisers = Optimisers(model, lr, lr, 0.0, total, 0.0, embeddings == "sparse")
        report_every = max(1, total // 20)
        log.info("entityalign: training the alignment model on %d examples (%d negatives; %d held out), %d steps "
                 "(%.2f epochs of %d, batch %d, lr %g) on %s", len(usable), sum(e.negative for e in train),
                 len(heldout), total, epochs, per_epoch, batch_size, lr, self.device)
        step, epoch, running = 0, 0, None
        model.train()
        while step < total:
            batches = bucketed_batches(lengths, batch_size, np.random.default_rng([seed, epoch]))
            for chosen in batches[: total - step]:
                batch = collate([usable[i] for i in chosen], self.tokenizer.pad_token_id).to(self.device)
                optimisers.zero_grad()
                with self.autocast or nullcontext():
                    loss = model.loss(batch)
                loss.backward()
                clip_dense(model, clip)
                optimisers.step()
                value = loss.detach().item()
                running = value if running is None else 0.95 * running + 0.05 * value
                step += 1
                if step % report_every == 0 or step == total:
                    seconds = time.perf_counter() - started
                    log.info("entityalign: step %d/%d: loss %.3f, about %d min left", step, total, running,
                             round(seconds / step * (total - step) / 60))
            epoch += 1
        model.eval()
        scores = no_scores()
        if heldout:
            predicted = self.word_probabilities([(e.entity, e.target) for e in heldout])
            scores = word_scores(predicted, [e.labels for e in heldout], self.min_probability)
            log.info("entityalign: held-out %d examples: precision %.2f, recall %.2f, F1 %.2f", len(heldout),
                     scores["precision"], scores["recall"], scores["f1"])
        return TrainReport(len(usable), sum(e.negative for e in train), scores, step,
                           round(time.perf_counter() - started, 1), stats.as_dict())

    def word_probabilities(self, queries: Sequence[Query]) -> list[list[float]]:
        """P(inside) of every target word of every query, in order; 0.0 for a word cut off or without a
        sub-token (it cannot be inside what the model did not read)."""
        out: list[list[float]] = [[0.0] * len(target) for _, target in queries]
        readable = [i for i, (entity, target) in enumerate(queries) if entity and target]
        encoded, stats = self._encode([queries[i] for i in readable])
        self.stats.add(stats)
        batches = bucketed_batches([len(item.input_ids) for item in encoded], self.eval_batch_size, rng=None)
        report_every = max(1, len(batches) // 20)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for number, chosen in enumerate(batches, start=1):
                batch = collate([encoded[i] for i in chosen], self.tokenizer.pad_token_id).to(self.device)
                with self.autocast or nullcontext():
                    inside = self.model(batch).softmax(-1)[..., INSIDE].cpu()
                for row, index in enumerate(chosen):
                    values, query = inside[row].tolist(), readable[index]
                    for word, position in enumerate(encoded[index].first):
                        if position >= 0:
                            out[query][word] = values[position]
                if len(batches) >= 40 and number % report_every == 0:
                    log.info("entityalign: aligned %d of %d batches of queries", number, len(batches))
        self.model.train(was_training)
        return out

    def find_all(self, queries: Sequence[Query]) -> list[Span | None]:
        """For every (entity words, target words) query, the span of the entity's translation: the longest
        run of words whose probability reaches ``min_probability``; None when no word does (the entity
        fails to map). Batched: pass every query of a corpus at once."""
        return [longest_run(p, self.min_probability) for p in self.word_probabilities(queries)]

    def find(self, entity_words: Sequence[str], target_words: Sequence[str]) -> Span | None:
        """:meth:`find_all` for one query."""
        return self.find_all([(entity_words, target_words)])[0]
