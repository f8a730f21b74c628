"""A write that runs out of room: the previous file stays, and the user gets one line, not torch's traceback.

The full disk is real, for the writing process: RLIMIT_FSIZE caps the size of any file it writes, so
torch.save fails inside its zip writer exactly as it does when the disk fills (seen in a seed run).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zsner.errors import ZsnerError
from zsner.utils import atomic_write

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")


def test_a_checkpoint_too_big_for_the_room_left_is_one_line_and_keeps_the_previous(tmp_path):
    path = tmp_path / "last.pt"
    script = textwrap.dedent(f"""
        import resource, signal, torch
        from zsner.errors import ZsnerError
        from zsner.training import checkpoint
        checkpoint.save({str(path)!r}, {{"step": torch.zeros(10)}})  # the previous checkpoint, small
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails (EFBIG) instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        try:
            checkpoint.save({str(path)!r}, {{"step": torch.zeros(1_000_000)}})  # 4 MB: does not fit
        except ZsnerError as err:
            print(err)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    assert line.startswith(f"{path}: could not write it (") and "MiB free on its disk" in line
    import torch

    assert torch.load(path)["step"].shape == (10,)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left behind


def test_a_failed_json_write_names_the_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{}\n")

    def fails(tmp: Path) -> None:
        tmp.write_text("{\"half\": ")
        raise OSError(28, "No space left on device")

    with pytest.raises(ZsnerError, match=r"report.json: could not write it \(\[Errno 28\] No space left on device;"):
        atomic_write(path, fails)
    assert path.read_text() == "{}\n" and len(list(tmp_path.iterdir())) == 1
