"""The command line explains itself and never shows a traceback for the user's mistakes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


def zsner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zsner", *args], cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["score"], ["data", "fetch"]])
def test_help(command):
    result = zsner(*command, "--help")
    assert result.returncode == 0
    assert "Usage: " in result.stdout and len(result.stdout.splitlines()) > 4


@pytest.mark.parametrize("args, message", [
    (["train", "recipes/nope.toml"], "recipes/nope.toml: recipe not found"),
    (["evaluate", "--model", "runs/none", "README.md"], "runs/none: no model here"),
    (["score", "missing.txt"], "missing.txt: file not found"),
])
def test_errors_are_one_line(args, message):
    result = zsner(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"zsner: error: {message}" or result.stderr.strip().startswith(f"zsner: error: {message}")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_option_is_a_usage_error():
    result = zsner("train", "--epochs", "3")
    assert result.returncode == 2 and "No such option" in result.stderr and "Traceback" not in result.stderr
