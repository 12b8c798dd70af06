"""Set-up step (``make setup``): build the llama-cpp-python version pyproject.toml pins without llama.cpp's
Intel AMX kernels, before the rest of the dependencies.

Why: PyPI has only the source of llama-cpp-python, and pip builds it for the CPU it runs on
(``-march=native``). On a CPU with AMX (Xeon Sapphire Rapids and later) that build routes quantized
matrix products through AMX tiles, and the first decode dies with a segmentation fault in
``ggml_backend_amx_mul_mat``: only the main thread asks the kernel for AMX tile state, the worker threads
that run the kernels do not (llama.cpp issue 20824; seen on this project's 2-core CI machines on
2026-12-03, llama-cpp-python 0.3.36). GCC and Clang let an explicit ``-mno-amx-*`` win over
``-march=native``, so the build keeps every other native instruction set (AVX-512, VNNI) and leaves the
AMX code out.

Run with the virtualenv's Python. In order:

1. The pinned version is installed and its CPU library has no AMX kernel: nothing to do.
2. Otherwise build and install it (x86-64: with ``-mno-amx-tile -mno-amx-int8 -mno-amx-bf16`` added to
   ``CFLAGS`` and ``CXXFLAGS``; pip's wheel cache is bypassed, since it would hand back a build made
   without them), then check the library again. The main ``pip install -e .`` then finds the pin
   satisfied and keeps this build.

Exit status: 0; pip's own when the build fails; 1 when the built library still holds AMX kernels.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, files, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "llama-cpp-python"
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
AMX_KERNEL = b"ggml_backend_amx_mul_mat"


def pinned_llama(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The version in the ``embedded`` extra's ``llama-cpp-python[...]==X`` requirement."""
    extras = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for requirement in extras.get("embedded", []):
        name, sep, pinned = requirement.replace(" ", "").partition("==")
        if name.split("[")[0] == PACKAGE and sep:
            return pinned
    raise SystemExit(f"{pyproject}: no {PACKAGE}==VERSION in the embedded extra")


def amx_libraries() -> list[Path]:
    """The installed llama-cpp-python libraries that carry an AMX matrix kernel."""
    try:
        listed = files(PACKAGE) or []
    except PackageNotFoundError:
        return []
    libraries = [Path(str(f.locate())) for f in listed if ".so" in f.name or f.name.endswith(".dll")]
    return [lib for lib in libraries if lib.is_file() and AMX_KERNEL in lib.read_bytes()]


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    if platform.machine().lower() in {"x86_64", "amd64"}:
        for var in ("CFLAGS", "CXXFLAGS"):
            env[var] = f"{env.get(var, '')} {NO_AMX}".strip()
    return env


def main() -> int:
    pinned = pinned_llama()
    try:
        installed: str | None = version(PACKAGE)
    except PackageNotFoundError:
        installed = None
    if installed == pinned and not amx_libraries():
        print(f"{PACKAGE} {installed} is installed (no AMX kernels)")
        return 0
    why = "not installed" if installed is None else f"{installed} installed"
    if installed == pinned:
        why = "installed with AMX kernels, which crash llama.cpp's worker threads"
    print(f"building {PACKAGE} {pinned} for this CPU without AMX kernels ({why}; a few minutes)")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--force-reinstall"]
    command += ["--no-deps", f"{PACKAGE}=={pinned}"]
    result = subprocess.run(command, check=False, env=build_env())
    if result.returncode != 0:
        return result.returncode
    left = amx_libraries()
    if left:
        print(f"error: {', '.join(map(str, left))} still holds AMX kernels", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
