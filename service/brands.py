"""Registered brands: folders under the service's ``brands_dir``, their knowledge documents and indexes.

Contract:

- A brand's name is its folder name: lowercase letters, digits, ``-`` and ``_`` (1–64 characters,
  starting with a letter or digit). Anything else — ``..``, slashes, a leading dot — is an
  :class:`InputError` naming the field, before the file system is touched.
- Registering (:meth:`BrandRegistry.put_brand`) validates the brand.yaml content exactly as the CLI does
  (``load_brand`` on a private copy) before anything replaces the registered file; the write is atomic.
- A knowledge document (:meth:`BrandRegistry.put_document`) has a plain file name (letters of any script,
  digits, ``. _ -`` and spaces; no folder part) and a supported suffix; its bytes are read by the same
  reader as indexing (UTF-8, not binary, parsable, within the size limits) from a private copy, and only
  then written atomically into the brand's knowledge folder, confined to it. The index is then updated
  incrementally.
- Indexes (:meth:`BrandRegistry.index`) are loaded once per process and kept while the brand folder is
  unchanged (names, sizes and times of brand.yaml and the knowledge files). When it changes, the next
  job reads the saved index afresh and updates that copy: an index a running job searches is never
  modified under it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import InputError
from core.files import atomic_write
from knowledge.brand import Brand, load_brand
from knowledge.documents import MAX_DOCUMENTS, MAX_KNOWLEDGE_BYTES, read_document, supported_suffixes
from knowledge.index import FaissKnowledgeIndex, default_index_dir, forget_loaded
from pipelines.session import campaign_channels, prepare_index
from pipelines.spec import Pipeline

BRAND_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DOCUMENT_NAME = re.compile(r"[\w][\w .-]{0,150}")
MAX_NAME_BYTES = 200  # below the 255-byte file-name limit of common file systems
MAX_CHANNEL_FILES, MAX_CHANNEL_BYTES = 50, 256 * 1024  # what a brand's channels/ may hold to be revalidated


def check_brand_name(name: str, field: str = "brand") -> str:
    if not BRAND_NAME.fullmatch(name):
        raise InputError(
            f"invalid brand name {name[:80]!r}; expected 1-64 lowercase letters, digits, '-' or '_'",
            field=field,
        )
    return name


def check_document_name(name: str) -> str:
    if (
        not DOCUMENT_NAME.fullmatch(name)
        or ".." in name
        or name.strip() != name
        or len(name.encode("utf-8")) > MAX_NAME_BYTES
    ):
        raise InputError(
            f"invalid document name {name[:80]!r}; expected a plain file name (no folder, no '..')",
            field="document",
        )
    suffix = Path(name).suffix.lower()
    if suffix not in supported_suffixes():
        raise InputError(
            f"unsupported document type {suffix or '(none)'!r}; "
            f"supported: {', '.join(sorted(supported_suffixes()))}",
            field="document",
        )
    return name


def _copy_channel_specs(source: Path, target: Path) -> None:
    """Copy a brand's channel specs (plain ``*.yaml`` files, no links, bounded) for validation."""
    if not source.is_dir() or source.is_symlink():
        return
    target.mkdir()
    files = [p for p in sorted(source.glob("*.yaml")) if p.is_file() and not p.is_symlink()]
    if len(files) > MAX_CHANNEL_FILES or sum(p.stat().st_size for p in files) > MAX_CHANNEL_BYTES:
        raise InputError("the brand's channels/ folder is too large to validate", field="channels")
    for path in files:
        shutil.copyfile(path, target / path.name)


@dataclass
class _CachedIndex:
    signature: tuple[Any, ...]
    index: FaissKnowledgeIndex


def _visible_files(folder: Path) -> list[Path]:
    """The files under ``folder``, without hidden ones or those in hidden folders (the index's own)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _signature(brand: Brand) -> tuple[Any, ...]:
    """What changes when brand.yaml or a knowledge document changes (cheap: stat only)."""
    assert brand.root is not None
    entries: list[tuple[str, int, int]] = []
    for path in [brand.root / "brand.yaml", *_visible_files(brand.knowledge_path)]:
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            entries.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(entries)


class BrandRegistry:
    """The brands under ``root`` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._indexes: dict[tuple[str, str, int, str], _CachedIndex] = {}

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(name, threading.Lock())

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and BRAND_NAME.fullmatch(p.name) and (p / "brand.yaml").is_file()
        )

    def folder(self, name: str) -> Path:
        return self.root / check_brand_name(name)

    def exists(self, name: str) -> bool:
        return (self.folder(name) / "brand.yaml").is_file()

    def load(self, name: str) -> Brand:
        """The registered brand ``name``; :class:`LookupError` when there is none."""
        folder = self.folder(name)
        if not (folder / "brand.yaml").is_file():
            raise LookupError(f"no registered brand {name!r}")
        return load_brand(folder)

    def documents(self, brand: Brand) -> list[dict[str, Any]]:
        folder = brand.knowledge_path
        return [
            {"name": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size}
            for path in _visible_files(folder)
            if path.suffix.lower() in supported_suffixes()
        ]

    def put_brand(self, name: str, brand_yaml: dict[str, Any]) -> tuple[Brand, bool]:
        """Register or replace ``name``'s brand.yaml (validated first); ``(brand, created)``."""
        folder = self.folder(name)
        text = yaml.safe_dump(brand_yaml, allow_unicode=True, sort_keys=False)
        if "\x00" in text:
            raise InputError("a value holds a NUL character", field="brand")
        with self._lock(name), tempfile.TemporaryDirectory(prefix="brandforge-brand-") as tmp:
            trial = Path(tmp)
            (trial / "brand.yaml").write_text(text, encoding="utf-8")
            _copy_channel_specs(folder / "channels", trial / "channels")  # validated with the brand
            try:
                checked = load_brand(trial)
                relative = checked.knowledge_path.relative_to(trial.resolve())  # inside the folder (checked)
                campaign_channels(checked, None)  # its channels exist and have their inputs
            except InputError as exc:
                message = str(exc).replace(str(trial.resolve()), ".").replace(str(trial), ".")
                raise InputError(message, field=exc.field) from None
            except (OSError, ValueError) as exc:  # a path the file system refuses (too long, ...)
                raise InputError(f"unusable path ({type(exc).__name__})", field="knowledge_dir") from None
            parts = relative.parts
            if not parts or any(p.startswith(".") for p in parts) or parts[0] in ("brand.yaml", "channels"):
                raise InputError(
                    "expected a folder of its own for the documents (not '.', a hidden folder, channels/ or "
                    "brand.yaml), e.g. knowledge",
                    field="knowledge_dir",
                )
            created = not (folder / "brand.yaml").is_file()
            knowledge = folder / relative
            try:  # the knowledge folder first: a brand.yaml is only written when its folder can exist
                if knowledge.exists() and not knowledge.is_dir():
                    raise InputError(f"{str(relative)!r} is a file; expected a folder", field="knowledge_dir")
                knowledge.mkdir(parents=True, exist_ok=True)
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"cannot create the knowledge folder ({type(exc).__name__})", field="knowledge_dir"
                ) from None
            atomic_write(folder / "brand.yaml", text.encode("utf-8"))
            brand = load_brand(folder)
        return brand, created

    def put_document(self, name: str, document: str, data: bytes, pipeline: Pipeline) -> dict[str, Any]:
        """Add or replace one knowledge document (validated first) and update the index."""
        brand = self.load(name)
        check_document_name(document)
        target = (brand.knowledge_path / document).resolve()
        if target.parent != brand.knowledge_path.resolve():
            raise InputError(f"document {document!r} would leave the knowledge folder", field="document")
        with tempfile.TemporaryDirectory(prefix="brandforge-doc-") as tmp:
            trial = Path(tmp) / document
            trial.write_bytes(data)
            try:
                read_document(trial, Path(tmp))
            except InputError as exc:
                raise InputError(str(exc).replace(str(trial), document), field="body") from None
        with self._lock(name):
            created = not target.exists()
            previous = None if created else target.read_bytes()
            files = [
                p for p in _visible_files(brand.knowledge_path) if p.suffix.lower() in supported_suffixes()
            ]
            count = len(files) + created
            total = sum(p.stat().st_size for p in files if p != target) + len(data)
            if count > MAX_DOCUMENTS or total > MAX_KNOWLEDGE_BYTES:
                raise InputError(
                    f"the knowledge folder would hold {count:,} documents and {total:,} bytes; limits: "
                    f"{MAX_DOCUMENTS:,} and {MAX_KNOWLEDGE_BYTES:,}",
                    field="body",
                )
            brand.knowledge_path.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        try:
            index = self.index(brand, pipeline)
        except Exception:  # the index refused the folder after all: put the folder back as it was
            with self._lock(name):
                if previous is None:
                    target.unlink(missing_ok=True)
                else:
                    atomic_write(target, previous)
            raise
        return {"document": document, "created": created, "bytes": len(data), "passages": len(index)}

    def delete_document(self, name: str, document: str, pipeline: Pipeline) -> bool:
        brand = self.load(name)
        check_document_name(document)
        target = brand.knowledge_path / document
        with self._lock(name):
            if not target.is_file():
                return False
            previous = target.read_bytes()
            target.unlink()
        try:
            self.index(brand, pipeline)
        except Exception:  # put it back: the folder is as it was
            with self._lock(name):
                atomic_write(target, previous)
            raise
        return True

    def index(self, brand: Brand, pipeline: Pipeline) -> FaissKnowledgeIndex:
        """The brand's index for ``pipeline``'s retrieval settings, up to date with its folder."""
        assert brand.root is not None
        retrieval = pipeline.spec.retrieval
        key = (str(brand.root), retrieval.embedder, retrieval.chunk_chars, retrieval.faiss_index)
        with self._lock(brand.root.name):
            signature = _signature(brand)
            cached = self._indexes.get(key)
            if cached is not None and cached.signature == signature:
                return cached.index
            if cached is not None:
                forget_loaded(default_index_dir(brand))  # update a fresh copy, not the one jobs search
            index = prepare_index(brand, pipeline)
            self._indexes[key] = _CachedIndex(_signature(brand), index)
            return index
