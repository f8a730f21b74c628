"""Vector normalisation before mapping, given as a spec string such as ``"unit,center,unit"``.

Why: unsupervised mapping (MUSE, VecMap) compares vectors by cosine and aligns the two spaces with an
orthogonal map, which works best when both spaces are length-normalised and mean-centred; VecMap's
recipe is unit -> center -> unit (Artetxe et al. 2018). The spec is a string so that it can live in a
recipe file and on the command line unchanged.
"""
from __future__ import annotations

import numpy as np

from zsner.errors import ZsnerError

STEPS = ("unit", "center", "none")


def parse_spec(spec: str) -> list[str]:
    """Split ``"unit,center,unit"`` into steps; an unknown step is a user error, reported at once."""
    steps = [s.strip().lower() for s in spec.split(",") if s.strip()]
    for s in steps:
        if s not in STEPS:
            raise ZsnerError(f"unknown normalisation {s!r} in {spec!r}; known: {', '.join(STEPS)}")
    return [s for s in steps if s != "none"]


def unit(matrix: np.ndarray) -> np.ndarray:
    """Scale every row to length 1 in place; all-zero rows stay zero instead of becoming NaN."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    return matrix


def center(matrix: np.ndarray) -> np.ndarray:
    """Subtract the mean vector in place, so that the vocabulary's mean is the origin."""
    matrix -= matrix.mean(axis=0, keepdims=True, dtype=np.float64).astype(matrix.dtype)
    return matrix


def normalize(matrix: np.ndarray, spec: str | list[str]) -> np.ndarray:
    """Apply the steps of ``spec`` in order, in place on a float array (and return it)."""
    steps = parse_spec(spec) if isinstance(spec, str) else spec
    if not np.issubdtype(matrix.dtype, np.floating):
        raise TypeError(f"normalize needs a float matrix, got {matrix.dtype}")
    for step in steps:
        if step == "unit":
            unit(matrix)
        elif step == "center":
            center(matrix)
        else:  # parse_spec already rejected it; here only if a caller passed a bad list
            raise ZsnerError(f"unknown normalisation {step!r}")
    return matrix
