"""Static word vectors distilled from a multilingual encoder (``zsner embed distill``).

Why: the embedding baseline maps monolingual fastText vectors, and the text that reaches an offline
machine (0.06–4M tokens a language) gives vectors too poor to map (P@1 ≈ 10 where MUSE reaches ≈ 80).
A multilingual encoder was trained on far more text; a vector per word taken from it carries that
text's lexical knowledge, and every existing command (map, cross train, table) takes it unchanged as a
``.vec`` file.

Two ways to get a word's vector, both pooled over the word's sub-tokens at chosen layers:

* ``alone``: the word is encoded by itself (``<s> ▁Par is </s>``). Fast (every word once, a few
  sub-tokens long) and needs no corpus beyond the word list, but the encoder sees no context.
* ``context``: the mean of the word's contextual states over up to K of its occurrences in the
  monolingual corpus, in one pass that accumulates per-word sums (Bommasani et al. 2020's "aggregated"
  static embeddings). Slower, and closer to what the word means in running text. Words the pass never
  reaches (every sentence of them was cut at ``max_subwords``) fall back to ``alone``.

The layer matters: the last layers of a contrastively trained sentence encoder such as e5 specialise
in sentence meaning, and lexical similarity usually peaks in the middle layers, so the layers are a
setting (``--layers``) and the README compares them. Long passes checkpoint atomically
(``OUT.partial.npz``) and resume with the same settings.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from zsner.embeddings.language_filter import lines_to_keep
from zsner.embeddings.vectors import Embeddings, write_vec
from zsner.errors import ZsnerError
from zsner.utils import GracefulStop, atomic_write

METHODS = ("alone", "context")
#: corpus sentences gathered (then sorted by length into batches) between two checks for ^C / checkpoints
BUFFER_SENTENCES = 2048
Echo = Callable[[str], None]


@dataclass(frozen=True)
class DistillSettings:
    """Everything that decides the vectors (recorded in ``OUT.distill.json`` and checked on resume)."""

    method: str = "context"
    layers: tuple[int, ...] = (6,)  # hidden-state indices averaged: 0 = the embedding layer, 12 = e5-small's last
    max_words: int = 200_000        # the most frequent corpus words (all of them when fewer)
    min_count: int = 1
    occurrences: int = 20           # context: at most this many occurrences averaged per word
    max_subwords: int = 128         # context: a sentence is encoded up to this many sub-tokens
    batch_tokens: int = 8192        # sub-tokens per forward pass (padding included)
    # context: encode at most this many corpus sentences, spread evenly over the corpus (every n-th line,
    # so that every source of it is sampled); 0 = all (es: 23k sentences in ~6 min on 2 cores, all 117k ~5x that).
    sentences: int = 20_000
    # context: how many interleaved samples of that size the pass reads in turn (round r: the lines n*i + r),
    # 0 = all n of them, i.e. every line, the spread first sample first: a frequent word then takes its K
    # contexts from every source of the corpus, where a pass in corpus order would take them from the first
    rounds: int = 1
    # lines a language identifier assigns to one of these languages rather than to ``language`` are left
    # out of the vocabulary and the pass (zsner.embeddings.language_filter); () = every line
    drop_lines_in: tuple[str, ...] = ()
    language: str = ""              # the corpus's language (ISO 639-1; the CLI's LANG), needed by drop_lines_in

    def validate(self) -> "DistillSettings":
        if self.method not in METHODS:
            raise ZsnerError(f"unknown distillation method {self.method!r}; known: {', '.join(METHODS)}")
        if self.sentences < 0:
            raise ZsnerError(f"sentences must be 0 (all) or more, not {self.sentences}")
        if self.rounds < 0:
            raise ZsnerError(f"rounds must be 0 (all) or more, not {self.rounds}")
        for name in ("max_words", "min_count", "occurrences", "max_subwords", "batch_tokens"):
            if getattr(self, name) < 1:
                raise ZsnerError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if not self.layers:
            raise ZsnerError("give at least one layer")
        if self.drop_lines_in and not self.language:
            raise ZsnerError("drop_lines_in needs the corpus's language")
        return self


def parse_layers(spec: str) -> tuple[int, ...]:
    """``"6"`` → (6,); ``"4-8"`` → (4, 5, 6, 7, 8); ``"4,8,12"`` → (4, 8, 12)."""
    layers: list[int] = []
    try:
        for part in spec.split(","):
            first, sep, last = part.strip().partition("-")
            layers.extend(range(int(first), int(last) + 1) if sep else [int(first)])
    except ValueError:
        raise ZsnerError(f"bad layer list {spec!r}: use e.g. 6, 4-8 or 4,8,12") from None
    if not layers or min(layers) < 0:
        raise ZsnerError(f"bad layer list {spec!r}: layers are numbered from 0 (the embedding layer)")
    return tuple(layers)


@dataclass(frozen=True)
class Vocabulary:
    """The words to distil (by falling corpus frequency, ties by first appearance) and the corpus's size."""

    words: list[str]
    counts: np.ndarray
    lines: int


def _require_corpus(corpus: Path) -> None:
    if not corpus.is_file():
        raise ZsnerError("no such corpus file (build it with `make corpus-LANG`)", corpus)


def corpus_vocabulary(corpus: Path, max_words: int, min_count: int, keep: np.ndarray | None = None) -> Vocabulary:
    """The corpus's ``max_words`` most frequent words that occur at least ``min_count`` times (in the
    lines flagged in ``keep``, when given; ``lines`` counts them all)."""
    _require_corpus(corpus)
    counts: Counter[str] = Counter()
    lines = 0
    with open(corpus, encoding="utf-8") as f:
        for lines, line in enumerate(f, 1):
            if keep is None or keep[lines - 1]:
                counts.update(line.split())
    if not counts:
        raise ZsnerError("the corpus has no words", corpus)
    ranked = [(w, c) for w, c in counts.most_common() if c >= min_count][:max_words]
    if not ranked:
        raise ZsnerError(f"no word occurs {min_count} times", corpus)
    return Vocabulary([w for w, _ in ranked], np.array([c for _, c in ranked], dtype=np.int64), lines)


class LayerPooler:
    """The encoder's states at ``layers`` (averaged), run under the precision and device chosen once."""

    def __init__(self, encoder_dir: Path, layers: tuple[int, ...], device: str = "auto", precision: str = "auto"):
        import torch

        from zsner.encoders.loading import load_encoder, load_tokenizer
        from zsner.encoders.precision import autocast_for, resolve_precision

        self.torch = torch
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                   else "cpu" if device == "auto" else device)
        self.model = load_encoder(encoder_dir).to(self.device)
        self.tokenizer = load_tokenizer(encoder_dir)
        n_layers = self.model.config.num_hidden_layers
        if max(layers) > n_layers:
            raise ZsnerError(f"layer {max(layers)} asked for, the encoder has layers 0-{n_layers}", encoder_dir)
        self.layers = layers
        self.precision = resolve_precision(precision, self.device)
        self._autocast = lambda: autocast_for(self.precision, self.device)
        # the last layers are not computed when no chosen layer needs them
        self.model.encoder.layer = self.model.encoder.layer[: max(max(layers), 1)]

    def states(self, encoded):
        """Float32 states [batch, length, dim] (a tensor on the pooler's device) of a tokenizer batch."""
        torch = self.torch
        inputs = {k: v.to(self.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            ctx = self._autocast()
            if ctx is None:
                out = self.model(**inputs, output_hidden_states=True)
            else:
                with ctx:
                    out = self.model(**inputs, output_hidden_states=True)
            hidden = out.hidden_states
            return torch.stack([hidden[i].float() for i in self.layers]).mean(0)


def _length_batches(lengths: list[int], batch_tokens: int) -> Iterator[list[int]]:
    """Indices grouped by similar length so that a batch holds about ``batch_tokens`` padded tokens."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) + 1) * max(lengths[batch[-1]], lengths[i]) > batch_tokens:
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def vectors_alone(pooler: LayerPooler, words: list[str], batch_tokens: int, echo: Echo) -> np.ndarray:
    """Each word encoded by itself; the mean of its sub-tokens' states (special tokens left out)."""
    tok = pooler.tokenizer
    ids = tok(words, add_special_tokens=True)["input_ids"]
    special = set(tok.all_special_ids)
    out = np.zeros((len(words), pooler.model.config.hidden_size), dtype=np.float32)
    done, t0, last = 0, time.perf_counter(), time.perf_counter()
    for batch in _length_batches([len(x) for x in ids], batch_tokens):
        encoded = tok.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
        states = pooler.states(encoded)
        mask = encoded["attention_mask"].to(states.device).bool()
        for sid in special:
            mask &= encoded["input_ids"].to(states.device) != sid
        mask = mask.float().unsqueeze(-1)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        out[batch] = pooled.cpu().numpy()
        done += len(batch)
        if time.perf_counter() - last > 30:
            last = time.perf_counter()
            echo(f"distill alone: {done}/{len(words)} words, {done / (last - t0):.0f} words/s")
    return out


@dataclass
class ContextState:
    """The pass's progress: per-word sums and counts and the next corpus line (what a checkpoint holds)."""

    sums: np.ndarray
    counts: np.ndarray
    next_line: int = 0
    sentences: int = 0  # sentences encoded (those holding a word short of K occurrences)
    round: int = 0      # the interleaved sample being read (DistillSettings.rounds)


def _checkpoint(state: ContextState, path: Path, key: str) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: given a path, np.savez would append ".npz" to it
            np.savez(f, sums=state.sums, counts=state.counts, next_line=state.next_line,
                     sentences=state.sentences, round=state.round, key=key)

    atomic_write(path, write)


def _resume(path: Path, key: str, shape: tuple[int, int], echo: Echo) -> ContextState | None:
    if not path.is_file():
        return None
    with np.load(path) as saved:
        if str(saved["key"]) != key or saved["sums"].shape != shape:
            raise ZsnerError("a partial pass with other settings, vocabulary or encoder is here; "
                             "delete it to start again", path)
        # a pass saved before rounds existed has another key (the settings gained `rounds`) and is refused above
        round_ = int(saved["round"])
        echo(f"distill context: resuming {path} at corpus line {int(saved['next_line'])} of round {round_ + 1}")
        return ContextState(saved["sums"].copy(), saved["counts"].copy(), int(saved["next_line"]),
                            int(saved["sentences"]), round_)


class Interrupted(Exception):
    """Raised after ^C once the partial pass is safely written."""


def context_stride(corpus_lines: int, sentences: int) -> int:
    """The context pass reads every n-th corpus line (line numbers divisible by n): n spreads the
    ``sentences`` cap evenly over the corpus, so that every source it was built from is sampled."""
    return max(1, corpus_lines // sentences) if sentences else 1


def interleaved_lines(corpus: Path, stride: int, rounds: int, start_round: int = 0,
                      start_line: int = 0) -> Iterator[tuple[int, int, str]]:
    """(round, line number, line) in the pass's order: round r holds the lines n*i + r, so each round is a
    sample spread over the whole corpus, and the first is the sampled pass's. ``rounds`` is capped at n
    (0 = n); a resumed pass starts in ``start_round`` at ``start_line``. Re-reading the file once a round
    costs seconds; holding a corpus of gigabytes in memory to reorder it would not be safe."""
    last = stride if rounds == 0 else min(rounds, stride)
    for r in range(start_round, last):
        first = start_line if r == start_round else 0
        with open(corpus, encoding="utf-8") as f:
            for lineno, line in enumerate(itertools.islice(f, first, None), first):
                if lineno % stride == r:
                    yield r, lineno, line


def vectors_in_context(pooler: LayerPooler, words: list[str], corpus: Path, corpus_lines: int,
                       settings: DistillSettings, partial: Path, key: str, echo: Echo,
                       checkpoint_every_s: float = 120.0, keep: np.ndarray | None = None) -> ContextState:
    """One pass over ``corpus`` (every n-th line when ``settings.sentences`` caps it, then, for more
    ``settings.rounds``, the lines after those; only the lines flagged in ``keep``, when given): sums of each
    word's mean sub-token state over up to K occurrences."""
    index = {w: i for i, w in enumerate(words)}
    dim = pooler.model.config.hidden_size
    state = _resume(partial, key, (len(words), dim), echo) or ContextState(
        np.zeros((len(words), dim), np.float32), np.zeros(len(words), np.int64))
    k = settings.occurrences
    counts = state.counts.tolist()  # a list in the loop: numpy scalar access per token is slow
    needed = sum(c < k for c in counts)
    stop = GracefulStop(echo, "^C: saving the partial pass after this batch (^C again to stop now)")
    stride = context_stride(corpus_lines, settings.sentences)
    stop.install()
    t0 = last_ckpt = last_echo = time.perf_counter()
    visited = 0
    try:
        # resumed: the round and line where the saved pass stopped
        lines = interleaved_lines(corpus, stride, settings.rounds, state.round, state.next_line)
        exhausted = False
        while not exhausted and needed:
            # a buffer of sentences that still hold a word short of K occurrences (sorted by length later)
            buffer: list[tuple[list[str], list[int]]] = []
            for round_, lineno, line in lines:
                state.round, state.next_line = round_, lineno + 1
                visited += 1
                if keep is not None and not keep[lineno]:
                    continue
                tokens = line.split()
                picks = [-1] * len(tokens)
                for pos, word in enumerate(tokens):
                    i = index.get(word, -1)
                    if i >= 0 and counts[i] < k:
                        counts[i] += 1  # counted now, so that one buffer never goes past K
                        needed -= counts[i] == k
                        picks[pos] = i
                if max(picks, default=-1) >= 0:
                    buffer.append((tokens, picks))
                if len(buffer) >= BUFFER_SENTENCES:
                    break
            else:
                exhausted = True
            missed = _encode_buffer(pooler, buffer, state, settings)
            state.sentences += len(buffer)
            for i in missed:  # cut off at max_subwords: not seen after all
                counts[i] -= 1
                needed += counts[i] == k - 1
            state.counts = np.asarray(counts, dtype=np.int64)
            now = time.perf_counter()
            if stop.requested or now - last_ckpt > checkpoint_every_s:
                _checkpoint(state, partial, key)
                last_ckpt = now
                if stop.requested:
                    raise Interrupted(f"interrupted; the partial pass is saved in {partial}")
            if now - last_echo > 30:
                last_echo = now
                rounds = f" of round {state.round + 1}" if stride > 1 and settings.rounds != 1 else ""
                echo(f"distill context: line {state.next_line}{rounds}, {visited / (now - t0):.0f} lines/s, "
                     f"{len(words) - needed}/{len(words)} words have {k} occurrences")
    finally:
        stop.restore()
    return state


def _encode_buffer(pooler: LayerPooler, buffer: list[tuple[list[str], list[int]]], state: ContextState,
                   settings: DistillSettings) -> list[int]:
    """Add the picked occurrences of ``buffer``'s sentences to the sums; returns the words cut off."""
    torch = pooler.torch
    if not buffer:
        return []
    tok = pooler.tokenizer
    encoded = tok([tokens for tokens, _ in buffer], is_split_into_words=True, truncation=True,
                  max_length=settings.max_subwords)
    missed: list[int] = []
    word_ids = [encoded.word_ids(b) for b in range(len(buffer))]
    lengths = [len(ids) for ids in encoded["input_ids"]]
    for batch in _length_batches(lengths, settings.batch_tokens):
        padded = tok.pad({"input_ids": [encoded["input_ids"][b] for b in batch]}, return_tensors="pt")
        states = pooler.states(padded)  # [B, T, d]
        occurrence = torch.full(states.shape[:2], -1, dtype=torch.long)
        vocab_of: list[int] = []
        for row, b in enumerate(batch):
            picks = buffer[b][1]
            seen_words: dict[int, int] = {}
            for t, w in enumerate(word_ids[b]):
                if w is None or picks[w] < 0:
                    continue
                if w not in seen_words:
                    seen_words[w] = len(vocab_of)
                    vocab_of.append(picks[w])
                occurrence[row, t] = seen_words[w]
            missed.extend(picks[w] for w in range(len(picks)) if picks[w] >= 0 and w not in seen_words)
        if not vocab_of:
            continue
        flat = occurrence.view(-1).to(states.device)
        keep = flat >= 0
        sums = torch.zeros(len(vocab_of), states.shape[-1], device=states.device)
        sums.index_add_(0, flat[keep], states.reshape(-1, states.shape[-1])[keep])
        sizes = torch.bincount(flat[keep], minlength=len(vocab_of)).clamp(min=1).unsqueeze(1)
        np.add.at(state.sums, np.asarray(vocab_of), (sums / sizes).cpu().numpy())
    return missed


#: the share of words with context vectors that makes a prefix of the vocabulary "one kind of vector"
CONTEXT_SHARE = 0.95


def leading_context_words(has_context: np.ndarray, share: float = CONTEXT_SHARE) -> int:
    """The longest run of most frequent words of which at least ``share`` have context vectors.

    Why: a sampled pass leaves the rarer words encoded alone, and those vectors sit elsewhere than
    context vectors (moving them by a mean shift or a regression does not join them; README). Two
    languages' builds mix the two kinds in different shares, so an adversarial map that matches the
    two clouds' distributions is pulled off the true map; shown only this prefix of each side, it
    finds it (``zsner.mapping.distilled``; README, known-answer test).
    """
    if not len(has_context):
        return 0
    holds = np.flatnonzero(np.cumsum(has_context) >= share * np.arange(1, len(has_context) + 1))
    return int(holds[-1]) + 1 if len(holds) else 0


def summary_path(vec: str | Path) -> Path:
    """Where a build's summary lives, beside its .vec (``zsner map`` reads it: zsner.mapping.distilled)."""
    return Path(f"{vec}.distill.json")


def run_key(settings: DistillSettings, encoder_dir: Path, words: list[str]) -> str:
    """What a partial pass must match to be resumed: settings, encoder folder and vocabulary."""
    h = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    h.update(str(Path(encoder_dir).resolve()).encode())
    h.update("\n".join(words).encode())
    return h.hexdigest()[:32]


def distill(corpus: Path, encoder_dir: Path, out: Path, settings: DistillSettings, device: str = "auto",
            precision: str = "auto", echo: Echo = print) -> dict:
    """Write ``out`` (.vec, words by falling corpus frequency) and ``out.distill.json``; returns the summary."""
    settings.validate()
    t0 = time.perf_counter()
    _require_corpus(corpus)
    keep = (lines_to_keep(corpus, settings.language, settings.drop_lines_in, echo)
            if settings.drop_lines_in else None)
    vocabulary = corpus_vocabulary(corpus, settings.max_words, settings.min_count, keep)
    words, counts = vocabulary.words, vocabulary.counts
    echo(f"distill: {len(words)} words of {corpus} (most frequent {words[0]!r} x{counts[0]}, "
         f"rarest kept x{counts[-1]}), method {settings.method}, layers {','.join(map(str, settings.layers))}")
    pooler = LayerPooler(encoder_dir, settings.layers, device, precision)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary: dict = {"corpus": str(corpus), "encoder": str(encoder_dir), "settings": asdict(settings),
                     "words": len(words), "device": str(pooler.device), "precision": pooler.precision}
    if keep is not None:
        summary["lines_in_other_languages"] = int((~keep).sum())
    partial = out.with_name(out.name + ".partial.npz")
    if settings.method == "context":
        state = vectors_in_context(pooler, words, corpus, vocabulary.lines, settings, partial,
                                   run_key(settings, encoder_dir, words), echo, keep=keep)
        seen = state.counts > 0
        matrix = state.sums / np.maximum(state.counts, 1)[:, None].astype(np.float32)
        unseen = np.flatnonzero(~seen)
        if len(unseen):
            matrix[unseen] = vectors_alone(pooler, [words[i] for i in unseen], settings.batch_tokens, echo)
        summary.update(corpus_lines=vocabulary.lines, sentences_encoded=state.sentences, rounds_read=state.round + 1,
                       words_alone_fallback=int(len(unseen)),
                       leading_context_words=leading_context_words(seen),
                       mean_occurrences=round(float(np.minimum(state.counts, settings.occurrences).mean()), 2))
    else:
        matrix = vectors_alone(pooler, words, settings.batch_tokens, echo)
    write_vec(Embeddings(words, matrix), out)
    if settings.method == "context":
        partial.unlink(missing_ok=True)  # the pass is in the .vec now
    summary.update(seconds=round(time.perf_counter() - t0, 1),
                   peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                   threads=pooler.torch.get_num_threads())
    summary_path(out).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    echo(f"distill: wrote {out}: {len(words)} x {matrix.shape[1]} in {summary['seconds']} s, "
         f"peak memory {summary['peak_rss_mib']} MiB")
    return summary
