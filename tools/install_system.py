"""Set-up step (``make setup``): the system packages the tests need besides Python's.

- the PostgreSQL server (``initdb``, ``pg_ctl``): the service's tests start a throwaway PostgreSQL cluster
  on 127.0.0.1 (tests/postgres.py);
- Chromium and the Noto CJK fonts: the report and studio tests drive a real headless Chromium through
  Playwright (tests/browser.py) and look at Chinese pages.

Run as root on a Debian or Ubuntu machine, this installs what is missing with apt-get; otherwise it says
what to install and goes on (those tests then fail saying the same). Exit status 0, or apt-get's when an
install it started fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CJK_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))


def has_postgres() -> bool:
    return shutil.which("initdb") is not None or any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def has_chromium() -> bool:
    return any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))


def has_cjk_fonts() -> bool:
    return any(any(folder.glob("NotoSansCJK*")) for folder in CJK_FONT_DIRS if folder.is_dir())


# Debian package -> whether it (or an equivalent) is already there.
PACKAGES = {"postgresql": has_postgres, "chromium": has_chromium, "fonts-noto-cjk": has_cjk_fonts}


def main() -> int:
    missing = sorted(package for package, present in PACKAGES.items() if not present())
    if not missing:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"note: the tests need the system packages {', '.join(missing)} (PostgreSQL for the service, "
            f"Chromium and CJK fonts for the report and studio); install them with "
            f"`sudo apt-get install -y {' '.join(missing)}` or your system's package manager",
            file=sys.stderr,
        )
        return 0
    print(f"installing system packages: {', '.join(missing)}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
