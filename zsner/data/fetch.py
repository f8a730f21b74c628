"""Put the gold NER corpora under ``data/ner`` as verified UTF-8 files.

The corpora are published in three encodings (Latin-1, ASCII, UTF-8); decoding them once here, after
checking the original bytes against the SHA-256 sums kept in ``sources.toml``, means every later reader
can assume UTF-8 and a corrupted or substituted file is caught before it silently changes a result.
"""
from __future__ import annotations

import hashlib
import logging
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from zsner.errors import ZsnerError
from zsner.utils import atomic_write, atomic_write_text

log = logging.getLogger(__name__)
SOURCES = Path(__file__).with_name("sources.toml")
DEFAULT_MIRROR = Path("../shared/data/ner")
STAMP = ".fetched"


@dataclass(frozen=True)
class Source:
    """One corpus file: its path below the data root, original encoding, checksum and upstream URL."""

    path: str
    encoding: str
    sha256: str
    url: str


def load_sources(path: Path = SOURCES) -> list[Source]:
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    return [Source(name, entry["encoding"], entry["sha256"], entry.get("url", "")) for name, entry in table.items()]


def _original_bytes(source: Source, mirror: Path | None) -> bytes:
    """The file's published bytes: from the mirror when it has them, else from the upstream URL."""
    if mirror is not None and (mirror / source.path).is_file():
        return (mirror / source.path).read_bytes()
    if not source.url:
        where = f"mirror {mirror}" if mirror is not None else "no mirror given"
        raise ZsnerError(f"not found ({where}) and no public download is known; pass --mirror DIR holding it", source.path)
    try:
        with urllib.request.urlopen(source.url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as err:
        raise ZsnerError(f"cannot download {source.url} ({err}); pass --mirror DIR holding the file", source.path) from None


def stored_digest(target: Path, source: Source) -> str | None:
    """SHA-256 of the original bytes behind a stored UTF-8 copy, or None when there is no readable copy.

    The copy is the published file decoded once; encoding it back (Latin-1, ASCII and UTF-8 all round-trip
    exactly) gives the published bytes, so a copy made from a file that has since been replaced upstream —
    the damaged Dutch and German files of 2026 — is recognised without any record kept beside it.
    """
    try:
        return hashlib.sha256(target.read_bytes().decode("utf-8").encode(source.encoding)).hexdigest()
    except (OSError, UnicodeError):
        return None


def fetch(out_dir: Path, mirror: Path | None, only: list[str] | None = None, force: bool = False) -> list[Path]:
    """Fetch, verify and decode each source; a stored copy is kept only while its checksum still holds.

    A copy whose original bytes no longer match ``sources.toml`` (the corpus was replaced, or the copy was
    edited) is fetched again, with one line saying so; ``force`` fetches every file again. A copy that is
    still right is not rewritten, so its modification time stays and make rebuilds only what read a file
    that really changed. Returns every target path.
    """
    written = []
    sources = [s for s in load_sources() if not only or any(s.path.startswith(prefix) for prefix in only)]
    if not sources:
        raise ZsnerError(f"no corpus matches {only}")
    for source in sources:
        target = out_dir / source.path
        if target.is_file() and not force:
            if stored_digest(target, source) == source.sha256:
                written.append(target)
                continue
            log.warning("%s: stored copy does not match the checksum in sources.toml (the corpus was replaced "
                        "or the copy changed); fetching it again", target)
        raw = _original_bytes(source, mirror)
        digest = hashlib.sha256(raw).hexdigest()
        if digest != source.sha256:
            raise ZsnerError(f"SHA-256 mismatch: expected {source.sha256[:12]}…, got {digest[:12]}… (wrong or changed file)", source.path)
        text = raw.decode(source.encoding)
        atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        log.info("%s: %d bytes, %s → utf-8", target, len(raw), source.encoding)
        written.append(target)
    if not only:
        atomic_write_text(out_dir / STAMP, "\n".join(str(p) for p in written) + "\n")
    return written
