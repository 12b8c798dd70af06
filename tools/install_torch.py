"""Set-up step (``make setup``): install the CPU build of the torch version pyproject.toml pins, before
the rest of the dependencies.

Why: BrandForge runs torch on the CPU only (sentence-transformers embeddings). On PyPI, ``torch==2.13.0``
for Linux x86_64 is the CUDA build: a 527 MB wheel that pulls 19 more (nvidia-cublas, -cudnn, -cufft,
-nccl, -cusolver, -cusparse(lt), triton, ...) worth 2.20 GB — 2.73 GB to download in all. The CPU build
is one 192 MB wheel from the PyTorch CPU index. Once a ``2.13.0+cpu`` is installed it satisfies the pin
(``==2.13.0`` matches any local build), so the main ``pip install -e .`` keeps it.

Run with the virtualenv's Python. In order:

1. torch at the pinned version is already installed: nothing to do.
2. The CPU index (``$TORCH_INDEX``, default https://download.pytorch.org/whl/cpu) answers: install from it.
3. pip can find a ``+cpu`` wheel of the pinned version without any index (its ``find-links``, e.g. a
   local wheel cache): install that.
4. Otherwise say what plain PyPI will download, and go on: the main install fetches it.

Exit status: 0, or pip's own when an install it started fails.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tomllib
import urllib.request
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = "https://download.pytorch.org/whl/cpu"
# Measured from PyPI's JSON API and the wheels' own metadata (requirements resolved for Linux x86_64,
# CPython 3.11), 2026-12-01; see README.md, "Quick start".
CUDA_COST = {
    "2.13.0": "a 527 MB CUDA build plus 19 nvidia-*/cuda-*/triton wheels of 2.20 GB: 2.73 GB in all",
}


def pinned_torch(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The version in pyproject.toml's ``torch==X`` dependency."""
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    for requirement in dependencies:
        name, sep, pinned = requirement.replace(" ", "").partition("==")
        if name == "torch" and sep:
            return pinned
    raise SystemExit(f"{pyproject}: no torch==VERSION dependency")


def pip(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], check=False, text=True, capture_output=capture
    )


def reachable(index: str, timeout_s: float = 10.0) -> bool:
    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def local_cpu_wheel(pinned: str) -> str | None:
    """The version pip would install for ``torch==pinned`` from its find-links alone, if a +cpu build."""
    result = pip(
        "install", "--dry-run", "--no-index", "--no-deps", "--ignore-installed", "--quiet", "--report", "-",
        f"torch=={pinned}",
        capture=True,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    try:
        found = str(json.loads(result.stdout)["install"][0]["metadata"]["version"])
    except (ValueError, KeyError, IndexError):
        return None
    return found if found.endswith("+cpu") else None


def main() -> int:
    pinned = pinned_torch()
    try:
        installed = version("torch")
    except PackageNotFoundError:
        installed = None
    if installed is not None and installed.split("+")[0] == pinned:
        print(f"torch {installed} is installed")
        return 0
    index = os.environ.get("TORCH_INDEX") or DEFAULT_INDEX
    if reachable(index):
        print(f"installing torch {pinned} (CPU build) from {index}")
        return pip("install", "--quiet", f"torch=={pinned}", "--index-url", index).returncode
    local = local_cpu_wheel(pinned)
    if local is not None:
        print(f"{index} cannot be reached; installing torch {local} from pip's local wheels (find-links)")
        return pip("install", "--quiet", "--no-index", "--no-deps", f"torch=={pinned}").returncode
    if platform.system() == "Linux":
        cost = CUDA_COST.get(pinned, "the CUDA build and several GB of nvidia-* wheels")
        print(
            f"warning: {index} cannot be reached and no CPU wheel of torch {pinned} is at hand, so pip will "
            f"install torch {pinned} from your package index; from PyPI that is {cost}. For the CPU build "
            "instead: `TORCH_INDEX=<a mirror of the PyTorch CPU index> make clean setup` (or put its "
            "+cpu wheel in a pip find-links folder).",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
