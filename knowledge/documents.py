"""Reading a brand's knowledge documents into plain text.

Contract: :func:`read_documents` returns one :class:`SourceDocument` per supported file under the
knowledge folder (``.md``, ``.markdown``, ``.txt``, ``.html``, ``.htm``, ``.json``, ``.pdf``, and
through :mod:`knowledge.formats` ``.docx``, ``.pptx``, ``.xlsx``, ``.epub``, ``.eml``), sorted by path,
with the sha256 of its bytes. HTML loses scripts, styles and navigation; JSON is flattened into
``key: value`` lines; PDF gives its text layer (pypdf); office files, e-books and e-mails give their
text with headings as ``#`` lines. A supported file that is binary, not UTF-8 or unparsable is an
InputError naming it; files of other types are listed in ``skipped`` so the caller can report them.
Symlinks that leave the brand folder are rejected. Document text is *data*: nothing here interprets it.

LangChain document loaders: :func:`register_loader` maps a suffix to a factory of
``langchain_core.document_loaders.BaseLoader`` (e.g. ``Docx2txtLoader``, or an ``Unstructured*Loader``
where its weight is acceptable). The loader never sees the brand's file: it reads a private copy of
the bytes read under the limits below (and, for a zip container, after the decompression-bomb check
of :func:`knowledge.formats.open_zip`), and its text is bounded like any other reader's. What the
loader's own code does besides reading that copy is the caller's choice to trust.

Limits (each an InputError naming the file and the limit): only regular files are read (a FIFO, device
or socket is refused before opening); a document is at most :data:`MAX_DOCUMENT_BYTES` on disk and its
extracted text at most :data:`MAX_DOCUMENT_CHARS`; a knowledge folder holds at most
:data:`MAX_DOCUMENTS` supported files and :data:`MAX_KNOWLEDGE_BYTES` in all (checked before any is
read); JSON nests at most :data:`MAX_JSON_DEPTH` levels; a PDF has at most :data:`MAX_PDF_PAGES` pages
and any failure of its parser is an InputError. Text, HTML and JSON are read in time linear in their
size (tests/security/test_input_limits.py probes the adversarial cases), so a document within the
limits cannot stall indexing. Zip containers (.docx, .pptx, .xlsx, .epub) hold at most
``MAX_ZIP_MEMBERS`` members and ``MAX_ZIP_UNCOMPRESSED`` bytes uncompressed, checked before anything
is inflated (:mod:`knowledge.formats`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from core.errors import InputError
from core.files import read_regular_file
from knowledge.formats import READERS, open_zip

if TYPE_CHECKING:
    from langchain_core.document_loaders import BaseLoader

log = logging.getLogger(__name__)

# A brand's knowledge is hand-written guidelines, product sheets and reviews: the shipped examples are
# about 30 KB each. The limits leave ample room for real brands while bounding what one index build
# can be made to read, chunk and embed.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_DOCUMENT_CHARS = 20 * 1024 * 1024  # extracted text (a PDF's text can outgrow its compressed file)
MAX_KNOWLEDGE_BYTES = 200 * 1024 * 1024
MAX_DOCUMENTS = 10_000
MAX_JSON_DEPTH = 64
MAX_PDF_PAGES = 2_000
PROGRESS_BYTES = 5 * 1024 * 1024  # folders at least this big report what they read

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
PDF_SUFFIXES = {".pdf"}
CONTAINER_SUFFIXES = set(READERS)  # .docx .pptx .xlsx .epub .eml: knowledge.formats
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | PDF_SUFFIXES | CONTAINER_SUFFIXES

LoaderFactory = Callable[[Path], "BaseLoader"]
_loaders: dict[str, LoaderFactory] = {}
_loaders_lock = threading.Lock()


def register_loader(suffix: str, factory: LoaderFactory) -> None:
    """Read files ending in ``suffix`` (e.g. ``".odt"``, or a built-in one to replace its reader) with
    the LangChain loader ``factory(path)`` returns; its documents' ``page_content`` are joined with
    blank lines. The loader reads a private copy of the checked bytes (see the module docstring)."""
    if not suffix.startswith(".") or len(suffix) < 2 or suffix != suffix.lower() or "/" in suffix:
        raise InputError(
            f"suffix {suffix!r}: expected a lower-case file suffix such as '.odt'", field="suffix"
        )
    with _loaders_lock:
        _loaders[suffix] = factory


def unregister_loader(suffix: str) -> None:
    """Forget a loader given to :func:`register_loader` (no error if there was none)."""
    with _loaders_lock:
        _loaders.pop(suffix, None)


def supported_suffixes() -> set[str]:
    """Suffixes read: the built-in ones and any with a registered LangChain loader."""
    with _loaders_lock:
        return SUPPORTED_SUFFIXES | set(_loaders)


def _registered_loader(suffix: str) -> LoaderFactory | None:
    with _loaders_lock:
        return _loaders.get(suffix)


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
    # What feed() leaves unparsed is either plain text (no "<": close() handles it in one pass) or one
    # tag, comment or declaration that never ends. For the latter, close() on Python < 3.11.13 rescans
    # from every "<" inside it to the end of input: quadratic ("<a " * 30,000 takes 90 s). HTML5 drops
    # an unterminated tag at end of file, as newer Pythons do, so do that instead of closing.
    if not parser.rawdata.startswith("<"):
        parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _flatten_json(value: Any, source: Path, budget: list[int], prefix: str = "", depth: int = 1) -> list[str]:
    """``value`` as lines; ``budget`` holds the characters still allowed: key paths repeat on every nested
    record, so a small document could otherwise flatten into gigabytes."""
    if depth > MAX_JSON_DEPTH:
        raise InputError(
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels (at {prefix.rstrip('.') or 'the top'}); "
            "expected records of fields",
            source=source,
        )

    def spend(line: str) -> str:
        budget[0] -= len(line) + 1
        if budget[0] < 0:
            raise InputError(
                f"JSON flattens to more than {MAX_DOCUMENT_CHARS:,} characters of text (the limit); split it",
                source=source,
            )
        return line

    if isinstance(value, dict):
        scalars = [f"{k}: {v}" for k, v in value.items() if not isinstance(v, dict | list)]
        lines = [spend("; ".join(scalars))] if scalars else []
        for k, v in value.items():
            if isinstance(v, dict | list):
                lines.append(spend(f"# {prefix}{k}"))
                lines.extend(_flatten_json(v, source, budget, f"{prefix}{k}.", depth + 1))
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            lines.extend(_flatten_json(item, source, budget, prefix, depth + 1))
            lines.append(spend(""))
        return lines
    return [spend(str(value))]


def json_to_text(raw: str, source: Path) -> str:
    """Flatten a JSON document into readable lines; records become one paragraph each. Numbers keep
    the document's own spelling ("4.50" stays "4.50"; a 100k-digit integer is text, not an int that
    Python refuses to convert)."""
    try:
        data = json.loads(raw, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    except RecursionError:
        # The C decoder recurses once per nesting level and stops at the interpreter's limit (~1,000).
        raise InputError(
            f"JSON nested too deeply to parse; at most {MAX_JSON_DEPTH} levels are accepted", source=source
        ) from None
    return "\n".join(_flatten_json(data, source, [MAX_DOCUMENT_CHARS])).strip()


def pdf_to_text(raw: bytes, source: Path) -> str:
    """Text of a PDF's pages (pypdf); scanned or encrypted PDFs without a text layer are an InputError."""
    import io

    from pypdf import PdfReader

    pages: list[str] = []
    size = 0
    try:
        reader = PdfReader(io.BytesIO(raw))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise InputError(
                f"PDF has {len(reader.pages):,} pages; the limit is {MAX_PDF_PAGES:,} (split it)",
                source=source,
            )
        for page in reader.pages:
            text = (page.extract_text() or "").strip()
            size += len(text)
            if size > MAX_DOCUMENT_CHARS:
                raise InputError(
                    f"PDF text longer than {MAX_DOCUMENT_CHARS:,} characters (the limit); split it",
                    source=source,
                )
            pages.append(text)
    except InputError:
        raise
    except Exception as exc:
        # pypdf parses hostile bytes with Python code: a malformed file can fail with any exception
        # (PyPdfError, ValueError, KeyError, RecursionError on deep nesting, ...). Each is this file's
        # fault, so each is an InputError naming it, never a traceback.
        raise InputError(f"unreadable PDF ({type(exc).__name__}: {str(exc)[:200]})", source=source) from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise InputError("PDF has no text layer (scanned?); export it as text first", source=source)
    return text


def loader_to_text(raw: bytes, source: Path, factory: LoaderFactory) -> str:
    """Text of ``raw`` as the LangChain loader from ``factory`` reads it, from a private copy named like
    ``source`` (loaders choose their parser by suffix). Zip containers pass the bomb check first."""
    if raw[:4] == b"PK\x03\x04":
        open_zip(raw, source, source.suffix.lstrip(".") or "zip").close()
    parts: list[str] = []
    budget = MAX_DOCUMENT_CHARS
    with tempfile.TemporaryDirectory(prefix="brandforge-loader-") as folder:
        copy = Path(folder) / f"document{source.suffix.lower()}"
        copy.write_bytes(raw)
        try:
            for document in factory(copy).lazy_load():
                text = document.page_content.strip()
                budget -= len(text) + 2
                if budget < 0:
                    raise InputError(
                        f"loader text longer than {MAX_DOCUMENT_CHARS:,} characters (the limit); split it",
                        source=source,
                    )
                if text:
                    parts.append(text)
        except InputError:
            raise
        except Exception as exc:
            # The loader is third-party code parsing hostile bytes: any failure is this file's error.
            raise InputError(
                f"unreadable by the registered loader ({type(exc).__name__}: {str(exc)[:200]})", source=source
            ) from None
    return "\n\n".join(parts)


def _decode(raw: bytes, source: Path) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError(
            "binary file, expected UTF-8 text (.md, .txt, .html or .json) or a .pdf, .docx, .pptx, .xlsx, "
            ".epub or .eml",
            source=source,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); save the document as UTF-8", source=source
        ) from None


def read_document(path: Path, root: Path) -> SourceDocument:
    """Read one supported file; ``root`` is the brand folder the returned path is relative to."""
    raw = read_regular_file(path, MAX_DOCUMENT_BYTES, what="document")
    suffix = path.suffix.lower()
    factory = _registered_loader(suffix)
    if factory is not None:
        text = loader_to_text(raw, path, factory)
    elif suffix in CONTAINER_SUFFIXES:
        text = READERS[suffix](raw, path)
    elif suffix in PDF_SUFFIXES:
        text = pdf_to_text(raw, path)
    else:
        text = _decode(raw, path)
        if suffix in HTML_SUFFIXES:
            text = html_to_text(text)
        elif suffix in JSON_SUFFIXES:
            text = json_to_text(text, path)
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    return SourceDocument(path=rel, text=text.strip(), sha256=hashlib.sha256(raw).hexdigest())


def _size_on_disk(path: Path) -> int:
    # Only regular files count: anything else is refused by read_document, with its own message.
    try:
        info = path.stat()
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def read_documents(
    knowledge_dir: Path, root: Path, progress: Callable[[str], None] | None = None
) -> DocumentSet:
    """Read every supported document under ``knowledge_dir`` (recursively, hidden files ignored).

    The folder's limits (:data:`MAX_DOCUMENTS`, :data:`MAX_KNOWLEDGE_BYTES`) are checked on the file
    sizes before any document is read. ``progress``, if given, is told what is being read when the
    folder holds at least :data:`PROGRESS_BYTES`: one line for the folder, one per large document."""
    if not knowledge_dir.is_dir():
        raise InputError("knowledge folder not found; expected a folder of documents", source=knowledge_dir)
    root_resolved = root.resolve()
    suffixes = supported_suffixes()
    found = DocumentSet()
    to_read: list[Path] = []
    for path in sorted(knowledge_dir.rglob("*")):
        rel_parts = path.relative_to(knowledge_dir).parts
        if any(part.startswith(".") for part in rel_parts) or path.is_dir():
            continue
        if not path.resolve().is_relative_to(root_resolved):
            raise InputError("link points outside the brand folder; expected a file inside it", source=path)
        if path.suffix.lower() not in suffixes:
            found.skipped.append(path.relative_to(root).as_posix())
            log.warning("skipping %s: unsupported type (expected one of %s)", path, sorted(suffixes))
            continue
        to_read.append(path)
        if len(to_read) > MAX_DOCUMENTS:
            raise InputError(
                f"more than {MAX_DOCUMENTS:,} documents (the limit per brand); remove some or merge them",
                source=knowledge_dir,
            )
    sizes = [_size_on_disk(path) for path in to_read]
    total = sum(sizes)
    if total > MAX_KNOWLEDGE_BYTES:
        biggest = max(range(len(to_read)), key=sizes.__getitem__)
        raise InputError(
            f"knowledge documents total {total:,} bytes; the limit is {MAX_KNOWLEDGE_BYTES:,} bytes "
            f"({MAX_KNOWLEDGE_BYTES >> 20} MiB; largest: {to_read[biggest].relative_to(root).as_posix()})",
            source=knowledge_dir,
        )
    report = progress if progress is not None and total >= PROGRESS_BYTES else None
    if report:
        report(f"knowledge: reading {len(to_read)} documents ({total / (1 << 20):.1f} MiB)")
    for path, size in zip(to_read, sizes, strict=True):
        if report and size >= PROGRESS_BYTES:
            report(f"knowledge: reading {path.relative_to(root).as_posix()} ({size / (1 << 20):.1f} MiB)")
        doc = read_document(path, root)
        if doc.text:
            found.documents.append(doc)
        else:
            found.skipped.append(doc.path)
            log.warning("skipping %s: no text", path)
    if not found.documents:
        raise InputError(
            f"no readable documents ({', '.join(sorted(suffixes))}) in the knowledge folder",
            source=knowledge_dir,
        )
    return found
