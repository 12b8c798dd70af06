"""Reading a brand's knowledge documents into plain text.

Contract: :func:`read_documents` returns one :class:`SourceDocument` per supported file under the
knowledge folder (``.md``, ``.markdown``, ``.txt``, ``.html``, ``.htm``, ``.json``, ``.pdf``), sorted
by path, with the sha256 of its bytes. HTML loses scripts, styles and navigation; JSON is flattened
into ``key: value`` lines; PDF gives its text layer (pypdf). A supported file that is binary, not
UTF-8 or unparsable is an InputError naming it; files of other types are listed in ``skipped`` so the
caller can report them. Symlinks that leave the brand folder are rejected. Document text is *data*:
nothing here interprets it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

from knowledge.errors import InputError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | PDF_SUFFIXES


@dataclass(frozen=True)
class SourceDocument:
    """One knowledge document: path relative to the brand folder, its text and content hash."""

    path: str
    text: str
    sha256: str


@dataclass
class DocumentSet:
    """What :func:`read_documents` found."""

    documents: list[SourceDocument] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _HTMLText(HTMLParser):
    _SKIP: ClassVar[set[str]] = {"script", "style", "nav", "noscript", "template", "svg", "head"}
    _BLOCK: ClassVar[set[str]] = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dt",
        "dd",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
            if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                self.parts.append("#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document, one block per line, headings kept as markdown headings."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _flatten_json(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        scalars = [f"{k}: {v}" for k, v in value.items() if not isinstance(v, dict | list)]
        lines = ["; ".join(scalars)] if scalars else []
        for k, v in value.items():
            if isinstance(v, dict | list):
                lines.append(f"# {prefix}{k}")
                lines.extend(_flatten_json(v, f"{prefix}{k}."))
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            lines.extend(_flatten_json(item, prefix))
            lines.append("")
        return lines
    return [str(value)]


def json_to_text(raw: str, source: Path) -> str:
    """Flatten a JSON document into readable lines; records become one paragraph each."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    return "\n".join(_flatten_json(data)).strip()


def pdf_to_text(raw: bytes, source: Path) -> str:
    """Text of a PDF's pages (pypdf); scanned or encrypted PDFs without a text layer are an InputError."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable PDF ({type(exc).__name__}: {exc})", source=source) from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError("PDF has no text layer (scanned?); export it as text first", source=source)
    return text


def _decode(raw: bytes, source: Path) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError(
            "binary file, expected UTF-8 text (.md, .txt, .html or .json) or a .pdf", source=source
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); save the document as UTF-8", source=source
        ) from None


def read_document(path: Path, root: Path) -> SourceDocument:
    """Read one supported file; ``root`` is the brand folder the returned path is relative to."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read document ({exc.strerror})", source=path) from None
    suffix = path.suffix.lower()
    text = pdf_to_text(raw, path) if suffix in PDF_SUFFIXES else _decode(raw, path)
    if suffix in HTML_SUFFIXES:
        text = html_to_text(text)
    elif suffix in JSON_SUFFIXES:
        text = json_to_text(text, path)
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    return SourceDocument(path=rel, text=text.strip(), sha256=hashlib.sha256(raw).hexdigest())


def read_documents(knowledge_dir: Path, root: Path) -> DocumentSet:
    """Read every supported document under ``knowledge_dir`` (recursively, hidden files ignored)."""
    if not knowledge_dir.is_dir():
        raise InputError("knowledge folder not found; expected a folder of documents", source=knowledge_dir)
    root_resolved = root.resolve()
    found = DocumentSet()
    for path in sorted(knowledge_dir.rglob("*")):
        rel_parts = path.relative_to(knowledge_dir).parts
        if any(part.startswith(".") for part in rel_parts) or path.is_dir():
            continue
        if not path.resolve().is_relative_to(root_resolved):
            raise InputError("link points outside the brand folder; expected a file inside it", source=path)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            found.skipped.append(path.relative_to(root).as_posix())
            log.warning(
                "skipping %s: unsupported type (expected one of %s)", path, sorted(SUPPORTED_SUFFIXES)
            )
            continue
        doc = read_document(path, root)
        if doc.text:
            found.documents.append(doc)
        else:
            found.skipped.append(doc.path)
            log.warning("skipping %s: no text", path)
    if not found.documents:
        raise InputError(
            "no readable documents (.md, .txt, .html, .json, .pdf) in the knowledge folder",
            source=knowledge_dir,
        )
    return found
