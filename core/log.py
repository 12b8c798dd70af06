"""BrandForge's loggers, configured in one place.

Contract: every library module logs through ``logging.getLogger(__name__)``, so its logger sits under
one of :data:`PACKAGES` (``knowledge.index``, ``policy.text``, ...), and never prints diagnostics. A
program that embeds BrandForge configures logging as it likes; the ``brandforge`` command calls
:func:`configure_logging` once, which gives each package logger one handler writing
``<level> <logger>: <message>`` to the *current* ``sys.stderr`` at the chosen level (default
``warning``; ``-v`` info, ``-vv`` debug, ``--log-level`` any of :data:`LEVELS`). Calling it again
replaces that handler and level instead of stacking a second one. Records still propagate, so a root
handler set up by the host program (or pytest's log capture) sees them too.

Third-party loggers (llama.cpp, httpx, FAISS, Ray) are left as Python sets them: their warnings and
errors still reach stderr through Python's last-resort handler.
"""

from __future__ import annotations

import logging
import sys

# The top-level packages whose loggers the command line configures.
PACKAGES: tuple[str, ...] = ("core", "backends", "policy", "agents", "prompts", "knowledge", "pipelines")
LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time of the record, so a handler set up once keeps
    working when stderr is replaced (pytest's capture, a caller redirecting it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname_lower = record.levelname.lower()
        return super().format(record)


def resolve_level(verbose: int = 0, log_level: str | None = None) -> int:
    """The level for ``-v`` given ``verbose`` times and ``--log-level`` (which wins when given)."""
    if log_level is not None:
        name = log_level.lower()
        if name not in LEVELS:
            raise ValueError(f"unknown log level {log_level!r}; valid choices: {list(LEVELS)}")
        return int(getattr(logging, name.upper()))
    return {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)


def configure_logging(level: int = logging.WARNING) -> None:
    """Send every BrandForge logger's records at ``level`` and above to stderr (see the module doc)."""
    formatter = _Formatter("%(levelname_lower)s %(name)s: %(message)s")
    for package in PACKAGES:
        logger = logging.getLogger(package)
        for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(old)
        handler = _StderrHandler(level)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        logger.setLevel(level)


def reset_logging() -> None:
    """Undo :func:`configure_logging`: the package loggers lose its handler and their level (tests)."""
    for package in PACKAGES:
        logger = logging.getLogger(package)
        for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(old)
        logger.setLevel(logging.NOTSET)
