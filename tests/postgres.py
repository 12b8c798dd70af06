"""A real PostgreSQL server for tests: a throwaway cluster on a free loopback port.

``postgres_server()`` runs ``initdb`` and ``pg_ctl start`` in a new folder under the system temp folder
(as the ``postgres`` system user when the tests run as root, since PostgreSQL refuses to run as root),
yields a SQLAlchemy URL, then stops the server (``pg_ctl stop -m immediate``) and removes the folder.
When the PostgreSQL server binaries are missing it fails saying what to install (``make setup``
installs them when run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.servers import free_port

INSTALL_HINT = (
    "the PostgreSQL server is not installed (initdb and pg_ctl not found); install it with "
    "`apt-get install -y postgresql` (make setup does when run as root)"
)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise RuntimeError(INSTALL_HINT)


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}"
        )


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="brandforge-pg-"))
    data = folder / "pgdata"
    data.mkdir(parents=True)
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (folder, data):
            os.chown(path, user.pw_uid, user.pw_gid)
        folder.chmod(0o755)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    log = folder / "postgres.log"
    try:
        _run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "brandforge", "-E", "UTF8"])
        options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"])
        yield f"postgresql+psycopg://brandforge@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60
        )
        shutil.rmtree(folder, ignore_errors=True)


def reset_database(url: str) -> None:
    """Drop every table of the service (a fresh database for the next test)."""
    from service.store import create_engine, metadata

    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
