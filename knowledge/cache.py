"""BrandForge's per-user cache folder (assembled models, indexes of read-only brand folders).

``$BRANDFORGE_CACHE`` if set, else ``$XDG_CACHE_HOME/brandforge``, else ``~/.cache/brandforge``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("BRANDFORGE_CACHE")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "brandforge"
