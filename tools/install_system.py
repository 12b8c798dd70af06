"""Set-up step (``make setup``): the system packages the tests need besides Python's.

Today that is the PostgreSQL server (``initdb``, ``pg_ctl``): the service's tests start a throwaway
PostgreSQL cluster on 127.0.0.1 (tests/postgres.py). Run as root on a Debian or Ubuntu machine, this
installs it with apt-get when it is missing; otherwise it says what to install and goes on (the
PostgreSQL tests then fail saying the same). Exit status 0, or apt-get's when an install it started fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {"initdb": "postgresql"}


def found(binary: str) -> bool:
    return shutil.which(binary) is not None or any(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}"))


def main() -> int:
    missing = sorted({package for binary, package in PACKAGES.items() if not found(binary)})
    if not missing:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"note: the service tests need {', '.join(missing)} (the PostgreSQL server); install it with "
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
