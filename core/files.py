"""Where BrandForge keeps files, and how it reads and writes them.

``cache_dir()``: ``$BRANDFORGE_CACHE`` if set, else ``$XDG_CACHE_HOME/brandforge``, else
``~/.cache/brandforge`` (assembled models, indexes of read-only brand folders).
``atomic_write()``: a file is either its old or its new content, never half-written.
``read_regular_file()``: how every user file (YAML, knowledge document) is read: only a regular file
(never a FIFO, device or socket, which could block forever or never end), and never more than a
stated number of bytes; anything else is an :class:`~core.errors.InputError` naming the file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from core.errors import InputError

_READ_CHUNK = 1 << 20


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, max_bytes: int, *, what: str = "file") -> bytes:
    """The bytes of ``path`` (symlinks followed), at most ``max_bytes`` of them.

    Refused with an InputError naming the file: a missing file, anything but a regular file (checked
    before opening, and again on the open descriptor so a swap in between cannot slip through), and a
    file over ``max_bytes`` (checked on its size, and while reading, since a file can grow or lie
    about its size). ``what`` says what was expected, e.g. "YAML file".
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # also a dangling symlink
        raise InputError(f"cannot read {what} (file not found)", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror})", source=path) from None
    if not stat.S_ISREG(mode):
        raise InputError(f"found {_kind(mode)}; expected a {what} (a regular file)", source=path)
    # O_NONBLOCK: if the path became a FIFO after the stat, open() returns at once instead of waiting
    # for a writer; the fstat below then refuses it. It changes nothing for regular files.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror})", source=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"found {_kind(info.st_mode)}; expected a {what} (a regular file)", source=path)
        if info.st_size > max_bytes:
            raise InputError(_too_big(what, max_bytes, info.st_size), source=path)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # read at most max_bytes + 1: one byte over is enough to refuse
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror})", source=path) from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise InputError(_too_big(what, max_bytes, None), source=path)
    return b"".join(chunks)


def _too_big(what: str, max_bytes: int, size: int | None) -> str:
    got = f"{size:,} bytes" if size is not None else "it grew while being read"
    return f"{what} too large ({got}); the limit is {max_bytes:,} bytes ({max_bytes / (1 << 20):g} MiB)"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over it (mode follows umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    base = os.environ.get("BRANDFORGE_CACHE")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "brandforge"
