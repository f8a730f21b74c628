"""Machine translation for CROP (``zsner.projection.crop``): one small interface, two implementations.

CROP needs a translator twice: target → English (plain text, so the English model can tag it) and English →
target with every entity wrapped in markers ``<bN>…</bN>`` (its "labelled sequence translation"). What a
translator must do is only ``translate(texts) -> texts``, one output per input, in order; how the text around
the markers is escaped is the translator's business (``escape``/``unescape``), because Apertium reads the
markers as HTML tags and therefore needs ``&`` and ``<`` in the text escaped, while a neural model reads raw
text.

- :class:`ApertiumTranslator`: Debian's rule-based Apertium (``apt-get install apertium apertium-eng-spa``:
  en↔es; no other pair of ours has a package). Its HTML mode carries tags through translation as
  positional blanks, so a marker stays where it was while the words around it may be reordered
  ("the <b1>Spanish</b1> government" → "el <b1>gobierno</b1> español"): CROP's lexical matching, not the
  marker, has the last word.
- :class:`Seq2SeqTranslator`: a local Hugging Face seq2seq folder (a Marian ``opus-mt-*`` model or one
  trained with CROP's boundary symbols), for users who have one; never downloaded at run time.
"""
from __future__ import annotations

import html
import logging
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from zsner.errors import ZsnerError

log = logging.getLogger("zsner.projection")

#: ISO 639-1 codes of our pairs → the ISO 639-3 codes Apertium's modes are named with
ISO3 = {"en": "eng", "es": "spa", "nl": "nld", "de": "deu", "fi": "fin", "ar": "ara"}


class Translator(Protocol):
    """Translate a batch of texts, one output per input."""

    name: str

    def translate(self, texts: Sequence[str]) -> list[str]: ...

    def escape(self, text: str) -> str: ...

    def unescape(self, text: str) -> str: ...


class ApertiumTranslator:
    """Apertium in HTML mode, unknown words passed through unmarked (``-u``: names are mostly unknown words).

    Texts go through one ``apertium`` process per chunk of ``chunk`` lines (startup costs ~0.1 s, a sentence
    ~1 ms); a chunk whose output has another number of lines is translated again line by line, so a
    stray newline never shifts every later sentence onto the wrong source.
    """

    def __init__(self, mode: str, chunk: int = 500):
        self.mode, self.chunk, self.name = mode, chunk, f"apertium {mode}"
        self.binary = shutil.which("apertium")
        if self.binary is None:
            raise ZsnerError("apertium is not installed (apt-get install apertium apertium-eng-spa, or "
                             "embeddings/install_sources.sh translators)")
        modes = self.modes()
        if mode not in modes:
            raise ZsnerError(f"apertium has no mode {mode!r} (installed: {', '.join(modes) or 'none'}); Debian packages "
                             f"apertium-<pair> add modes, and en<->es (apertium-eng-spa) is the only pair of ours")

    def modes(self) -> list[str]:
        out = subprocess.run([self.binary, "-l"], capture_output=True, text=True, check=False).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def escape(self, text: str) -> str:
        return html.escape(text, quote=False)

    def unescape(self, text: str) -> str:
        return html.unescape(text)

    def _run(self, lines: Sequence[str]) -> list[str]:
        result = subprocess.run([self.binary, "-u", "-f", "html", self.mode], input="\n".join(lines) + "\n",
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            said = result.stderr.strip().splitlines()
            raise ZsnerError(f"apertium {self.mode} failed ({said[-1] if said else f'exit status {result.returncode}'})")
        return [line.strip() for line in result.stdout.rstrip("\n").split("\n")]

    def translate(self, texts: Sequence[str]) -> list[str]:
        texts = [" ".join(t.split()) for t in texts]  # a newline inside a text would be read as two texts
        out: list[str] = []
        for start in range(0, len(texts), self.chunk):
            lines = texts[start : start + self.chunk]
            translated = self._run(lines)
            if len(translated) != len(lines):
                log.warning("apertium %s: %d lines out for %d in; translating this chunk line by line",
                            self.mode, len(translated), len(lines))
                translated = [" ".join(self._run([line])) for line in lines]
            out.extend(translated)
        return out


class Seq2SeqTranslator:
    """A local Hugging Face encoder-decoder folder (``AutoModelForSeq2SeqLM``), greedy or beam search."""

    def __init__(self, folder: str | Path, device: str = "cpu", batch_size: int = 16, num_beams: int = 1):
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ZsnerError("not a Hugging Face model folder (no config.json): set [stages.crop] to_english / "
                             "from_english to a local seq2seq model folder", folder)
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.name, self.batch_size, self.num_beams, self.device = f"seq2seq {folder}", batch_size, num_beams, device
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(str(folder), local_files_only=True).to(device).eval()
        except (OSError, ValueError) as err:
            raise ZsnerError(f"cannot load a seq2seq model: {str(err).splitlines()[0]}", folder) from None

    def escape(self, text: str) -> str:
        return text

    def unescape(self, text: str) -> str:
        return text

    def translate(self, texts: Sequence[str]) -> list[str]:
        import torch

        out: list[str] = []
        limit = getattr(self.tokenizer, "model_max_length", 512)
        limit = limit if isinstance(limit, int) and 0 < limit < 100_000 else 512
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(list(texts[start : start + self.batch_size]), return_tensors="pt", padding=True,
                                   truncation=True, max_length=limit).to(self.device)
            batch.pop("token_type_ids", None)
            with torch.inference_mode():
                generated = self.model.generate(**batch, num_beams=self.num_beams, do_sample=False,
                                                max_new_tokens=min(limit, 2 * batch["input_ids"].shape[1] + 10))
            out.extend(t.strip() for t in self.tokenizer.batch_decode(generated, skip_special_tokens=True))
        return out


def translators(kind: str, target: str, to_english: str, from_english: str, device: str = "cpu",
                batch_size: int = 16, num_beams: int = 1) -> tuple[Translator, Translator]:
    """The two directions CROP needs, from ``[stages.crop]``: (target → English, English → target)."""
    if kind == "apertium":
        code = ISO3.get(target, target)
        return (ApertiumTranslator(to_english or f"{code}-eng"), ApertiumTranslator(from_english or f"eng-{code}"))
    if kind == "hf":
        if not to_english or not from_english:
            raise ZsnerError("[stages.crop] translator = \"hf\" needs to_english and from_english: two local "
                             "seq2seq model folders (e.g. saved Helsinki-NLP/opus-mt-es-en and opus-mt-en-es)")
        return (Seq2SeqTranslator(to_english, device, batch_size, num_beams),
                Seq2SeqTranslator(from_english, device, batch_size, num_beams))
    raise ZsnerError(f"unknown translator {kind!r} (apertium | hf)")
