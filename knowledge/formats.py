"""Readers for office, e-book and e-mail knowledge documents: ``.docx``, ``.pptx``, ``.xlsx``, ``.epub``
(zip containers) and ``.eml`` (MIME).

Contract: each ``*_to_text(raw, source)`` takes the bytes :func:`~knowledge.documents.read_document`
already read (regular file, inside the brand folder, at most ``MAX_DOCUMENT_BYTES``) and returns plain
text in the shape the chunker understands: headings as markdown ``#`` lines (Word heading styles, slide
titles, sheet names, e-mail subject), table rows as ``cell | cell`` lines. Nothing here touches the
file system again. Any failure is an :class:`~core.errors.InputError` naming ``source``, never a
traceback; text longer than ``MAX_DOCUMENT_CHARS`` is refused while it is being produced.

Zip containers are checked before any reader sees them (:func:`open_zip`): at most
:data:`MAX_ZIP_MEMBERS` members and :data:`MAX_ZIP_UNCOMPRESSED` bytes uncompressed in all by the
sizes the archive declares, and then every member is inflated once, 64 KiB at a time, to prove it
holds what it declares (``zipfile`` stops at the declared size and checks the CRC). The second pass
matters: ``ZipFile.read`` inflates a whole compressed chunk at once, so a member declaring 1 KB but
inflating to gigabytes would exhaust memory inside ``zipfile`` before its size or CRC is checked
(tests/security/test_container_limits.py). After it, the declared sizes bound what any reader
(openpyxl, a registered LangChain loader) can inflate. XML is parsed with the standard library's expat,
which expands no external entities and stops entity-expansion ("billion laughs") attacks.

Why these readers and not langchain-community's loaders: docs/langchain.md has the measurements
(``unstructured``, which the community Word/PowerPoint/Excel/EPub/e-mail loaders need, installs about
740 MB more, with spaCy, numba and a pandoc binary, and downloads a spaCy model from GitHub on first
use, so it fails offline; ``docx2txt``, behind ``Docx2txtLoader``, drops headings and turns every table
cell into a paragraph of its own). A LangChain loader can still be plugged in for any suffix with
:func:`knowledge.documents.register_loader`, behind the same limits.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from core.errors import InputError

MAX_ZIP_MEMBERS = 10_000
_INFLATE_CHUNK = 64 * 1024
# A 20 MB office file of text inflates to a few times that; images are stored nearly uncompressed.
MAX_ZIP_UNCOMPRESSED = 256 * 1024 * 1024
# Spreadsheet cells visited, empty ones included (openpyxl pads each row to its last cell and yields
# every skipped row): bounds the work a sparse sheet with far-apart cells could cause (10M: ~2.5 s).
MAX_SHEET_CELLS = 10_000_000
# Excel's own grid; a sheet that addresses cells outside it is refused before openpyxl walks to them.
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384  # column XFD
MAX_HEADER_CHARS = 2_000  # an e-mail header shown in the text; longer ones are cut
MAX_EPUB_CHAPTERS = 5_000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OPF = "{http://www.idpf.org/2007/opf}"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"


class _TextBudget:
    """Collects output lines and refuses, as soon as it happens, text over ``limit`` characters."""

    def __init__(self, source: Path, limit: int) -> None:
        self.source = source
        self.left = limit
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.left -= len(line) + 1
        if self.left < 0:
            raise InputError(
                "document text longer than the limit for one document; split it", source=self.source
            )
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines).strip()


def _limit() -> int:
    from knowledge.documents import MAX_DOCUMENT_CHARS  # read at call time: tests lower it

    return MAX_DOCUMENT_CHARS


def guarded(kind: str) -> Callable[[Callable[[bytes, Path], str]], Callable[[bytes, Path], str]]:
    """Turn any failure of a reader into an InputError naming the file (parsers of hostile bytes can
    raise anything: BadZipFile, KeyError, ParseError, RecursionError, ...)."""

    def wrap(reader: Callable[[bytes, Path], str]) -> Callable[[bytes, Path], str]:
        def read(raw: bytes, source: Path) -> str:
            try:
                return reader(raw, source)
            except InputError:
                raise
            except Exception as exc:
                raise InputError(
                    f"unreadable {kind} ({type(exc).__name__}: {str(exc)[:200]})", source=source
                ) from None

        read.__name__ = reader.__name__
        read.__doc__ = reader.__doc__
        return read

    return wrap


# -- zip containers ------------------------------------------------------------------------------
def open_zip(raw: bytes, source: Path, kind: str) -> zipfile.ZipFile:
    """The archive in ``raw``, after its member count and declared uncompressed total are checked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise InputError(f"not a {kind} file (not a zip archive)", source=source) from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise InputError(
            f"{kind} archive has {len(members):,} members; the limit is {MAX_ZIP_MEMBERS:,}", source=source
        )
    total = sum(member.file_size for member in members)
    if total > MAX_ZIP_UNCOMPRESSED:
        raise InputError(
            f"{kind} archive would inflate to {total:,} bytes; the limit is {MAX_ZIP_UNCOMPRESSED:,} "
            f"bytes ({MAX_ZIP_UNCOMPRESSED >> 20} MiB; a decompression bomb?)",
            source=source,
        )
    for member in members:
        try:
            with archive.open(member) as stream:
                while stream.read(_INFLATE_CHUNK):
                    pass
        except Exception as exc:  # BadZipFile (CRC), EOFError, encrypted (RuntimeError), zlib.error, ...
            raise InputError(
                f"{kind} archive member {member.filename[:100]!r} does not hold what it declares "
                f"({type(exc).__name__}: {str(exc)[:200]})",
                source=source,
            ) from None
    return archive


def _member(archive: zipfile.ZipFile, name: str, source: Path, kind: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise InputError(f"not a valid {kind} file ({name} is missing)", source=source) from None


def _xml(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target part path, for the OOXML part ``part``."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels_name not in archive.namelist():
        return {}
    out = {}
    for rel in _xml(archive.read(rels_name)).iter(f"{PKG_REL}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[rel.get("Id", "")] = path
    return out


# -- .docx ---------------------------------------------------------------------------------------
def _docx_heading_levels(archive: zipfile.ZipFile) -> dict[str, int]:
    """Style id -> heading level, from ``styles.xml`` names ("heading 1", "Title"): a localised Word
    gives its heading styles ids such as "1" or "a1", but the names stay English."""
    if "word/styles.xml" not in archive.namelist():
        return {}
    levels: dict[str, int] = {}
    for style in _xml(archive.read("word/styles.xml")).iter(f"{W}style"):
        name_el = style.find(f"{W}name")
        name = (name_el.get(f"{W}val", "") if name_el is not None else "").strip().lower()
        style_id = style.get(f"{W}styleId", "")
        if name == "title":
            levels[style_id] = 1
        elif name.startswith("heading ") and name[8:].isdigit():
            levels[style_id] = min(6, int(name[8:]))
    return levels


def _docx_runs(element: ElementTree.Element) -> str:
    parts = []
    for node in element.iter():
        if node.tag == f"{W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{W}tab":
            parts.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
    return "".join(parts).strip()


def _docx_paragraph(paragraph: ElementTree.Element, levels: dict[str, int]) -> str:
    text = _docx_runs(paragraph)
    if not text:
        return ""
    props = paragraph.find(f"{W}pPr")
    level = 0
    if props is not None:
        style = props.find(f"{W}pStyle")
        outline = props.find(f"{W}outlineLvl")
        if style is not None:
            style_id = style.get(f"{W}val", "")
            level = levels.get(style_id, 0)
            lowered = style_id.lower()
            if not level and lowered.startswith("heading") and lowered[7:].isdigit():
                level = min(6, int(lowered[7:]))
        if not level and outline is not None and outline.get(f"{W}val", "").isdigit():
            level = min(6, int(outline.get(f"{W}val", "0")) + 1)
    return f"{'#' * level} {' '.join(text.split())}" if level else text


def _docx_table(table: ElementTree.Element) -> Iterator[str]:
    for row in table.iter(f"{W}tr"):
        cells = [
            " ".join(" ".join(_docx_runs(p).split()) for p in cell.iter(f"{W}p")).strip()
            for cell in row.findall(f"{W}tc")
        ]
        if any(cells):
            yield " | ".join(cells)


@guarded("Word document")
def docx_to_text(raw: bytes, source: Path) -> str:
    """Body text of a Word document: paragraphs, headings as ``#`` lines, tables as ``a | b`` rows
    (headers, footers, comments and tracked deletions are left out)."""
    with open_zip(raw, source, "Word (.docx)") as archive:
        levels = _docx_heading_levels(archive)
        root = _xml(_member(archive, "word/document.xml", source, "Word (.docx)"))
    body = root.find(f"{W}body")
    out = _TextBudget(source, _limit())
    for block in body if body is not None else []:
        if block.tag == f"{W}p":
            line = _docx_paragraph(block, levels)
            if line:
                out.add(line)
        elif block.tag == f"{W}tbl":
            for line in _docx_table(block):
                out.add(line)
        elif block.tag == f"{W}sdt":  # content controls (a table of contents, form fields) hold paragraphs
            for paragraph in block.iter(f"{W}p"):
                line = _docx_paragraph(paragraph, levels)
                if line:
                    out.add(line)
    return out.text()


# -- .pptx ---------------------------------------------------------------------------------------
def _pptx_paragraph(paragraph: ElementTree.Element) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{A}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{A}br":
            parts.append(" ")
    return " ".join("".join(parts).split())


def _pptx_shapes(element: ElementTree.Element, out: _TextBudget) -> None:
    """Text of the shapes under ``element`` in drawing order; titles as ``##``, tables as rows."""
    for shape in element:
        if shape.tag == f"{P}grpSp":
            _pptx_shapes(shape, out)
        elif shape.tag == f"{P}sp":
            placeholder = shape.find(f"{P}nvSpPr/{P}nvPr/{P}ph")
            title = placeholder is not None and placeholder.get("type") in ("title", "ctrTitle")
            for paragraph in shape.iter(f"{A}p"):
                line = _pptx_paragraph(paragraph)
                if line:
                    out.add(f"## {line}" if title else line)
        elif shape.tag == f"{P}graphicFrame":
            for row in shape.iter(f"{A}tr"):
                cells = [
                    " ".join(_pptx_paragraph(p) for p in cell.iter(f"{A}p")).strip()
                    for cell in row.findall(f"{A}tc")
                ]
                if any(cells):
                    out.add(" | ".join(cells))


@guarded("PowerPoint presentation")
def pptx_to_text(raw: bytes, source: Path) -> str:
    """Text of every slide in presentation order (each slide's title as a ``##`` heading, tables as
    ``a | b`` rows); speaker notes and slide masters are left out."""
    kind = "PowerPoint (.pptx)"
    with open_zip(raw, source, kind) as archive:
        presentation = _xml(_member(archive, "ppt/presentation.xml", source, kind))
        targets = _rels(archive, "ppt/presentation.xml")
        slide_ids = presentation.find(f"{P}sldIdLst")
        order = [targets.get(s.get(f"{R}id", ""), "") for s in (slide_ids if slide_ids is not None else [])]
        out = _TextBudget(source, _limit())
        for number, part in enumerate((p for p in order if p), start=1):
            slide = _xml(_member(archive, part, source, kind))
            tree = slide.find(f"{P}cSld/{P}spTree")
            before = len(out.lines)
            if tree is not None:
                _pptx_shapes(tree, out)
            if len(out.lines) > before and not out.lines[before].startswith("## "):
                out.lines.insert(before, f"## Slide {number}")
    return out.text()


# -- .xlsx ---------------------------------------------------------------------------------------
def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_sheet_grid(archive: zipfile.ZipFile, source: Path) -> None:
    """Refuse a sheet whose rows or cells lie outside Excel's grid, streaming its XML (an element
    is dropped once read): openpyxl would otherwise step through every row up to one numbered two
    billion."""
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with archive.open(name) as stream:
            root: ElementTree.Element | None = None
            for event, element in ElementTree.iterparse(stream, events=("start", "end")):
                if root is None:
                    root = element
                if event == "end":
                    if element.tag.endswith("}row"):
                        root.clear()
                    continue
                tag = element.tag.rsplit("}", 1)[-1]
                ref = element.get("r")
                if ref is None or tag not in ("row", "c"):
                    continue
                letters = ref.rstrip("0123456789") if tag == "c" else ""
                digits = ref[len(letters) :]
                row = int(digits) if digits.isdigit() and len(digits) <= 10 else MAX_SHEET_ROWS + 1
                column = _column_number(letters) if letters.isalpha() and len(letters) <= 3 else 0
                if row > MAX_SHEET_ROWS or (tag == "c" and not 1 <= column <= MAX_SHEET_COLUMNS):
                    raise InputError(
                        f"{name} addresses {tag} {ref[:20]!r}, outside Excel's grid of "
                        f"{MAX_SHEET_ROWS:,} rows and {MAX_SHEET_COLUMNS:,} columns",
                        source=source,
                    )


@guarded("Excel workbook")
def xlsx_to_text(raw: bytes, source: Path) -> str:
    """Every sheet (``#`` sheet name) as ``a | b | c`` rows of the values of its non-empty cells
    (cached results for formulas, dates as ISO dates); empty rows are dropped."""
    import openpyxl

    kind = "Excel (.xlsx)"
    with open_zip(raw, source, kind) as archive:  # the bomb check, before openpyxl inflates anything
        _check_sheet_grid(archive, source)
    workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True, keep_links=False)
    out = _TextBudget(source, _limit())
    visited = 0
    try:
        for sheet in workbook.worksheets:
            # The sheet's own <dimension> may claim a million rows of width 16,384: ignore it, so rows are
            # only as wide as their own last cell.
            reset = getattr(sheet, "reset_dimensions", None)
            if reset is not None:
                reset()
            out.add(f"# {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                visited += len(row) + 1
                if visited > MAX_SHEET_CELLS:
                    raise InputError(
                        f"workbook has more than {MAX_SHEET_CELLS:,} cells (empty ones between far-apart "
                        "cells included); export the data you need as CSV or split it",
                        source=source,
                    )
                # Only the cells with a value: far-apart cells must not become thousands of " | ".
                cells = [text for text in map(_cell_text, row) if text]
                if cells:
                    out.add(" | ".join(cells))
    finally:
        workbook.close()
    return out.text()


# -- .epub ---------------------------------------------------------------------------------------
@guarded("EPUB book")
def epub_to_text(raw: bytes, source: Path) -> str:
    """The book's chapters in reading (spine) order, each XHTML file as text (see ``html_to_text``)."""
    from knowledge.documents import html_to_text

    kind = "EPUB (.epub)"
    with open_zip(raw, source, kind) as archive:
        container = _xml(_member(archive, "META-INF/container.xml", source, kind))
        rootfile = container.find(f"{CONTAINER}rootfiles/{CONTAINER}rootfile")
        opf_path = rootfile.get("full-path", "") if rootfile is not None else ""
        if not opf_path:
            raise InputError(f"not a valid {kind} file (no package document in container.xml)", source=source)
        package = _xml(_member(archive, opf_path, source, kind))
        base = posixpath.dirname(opf_path)
        manifest = {
            item.get("id", ""): item
            for item in package.iter(f"{OPF}item")
            if item.get("media-type") in ("application/xhtml+xml", "text/html")
        }
        spine = [ref.get("idref", "") for ref in package.iter(f"{OPF}itemref")]
        if len(spine) > MAX_EPUB_CHAPTERS:
            raise InputError(
                f"EPUB has {len(spine):,} chapters; the limit is {MAX_EPUB_CHAPTERS:,}", source=source
            )
        out = _TextBudget(source, _limit())
        for idref in spine:
            item = manifest.get(idref)
            if item is None:
                continue
            path = posixpath.normpath(posixpath.join(base, unquote(item.get("href", ""))))
            chapter = _member(archive, path, source, kind).decode("utf-8", errors="replace")
            text = html_to_text(chapter)
            if text:
                out.add(text)
                out.add("")
    return out.text()


# -- .eml ----------------------------------------------------------------------------------------
def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    raw = str(value)[:MAX_HEADER_CHARS]
    try:
        decoded = str(make_header(decode_header(raw)))
    except (LookupError, ValueError, UnicodeError):  # an unknown charset or broken encoded-word
        decoded = raw
    return " ".join(decoded.split())


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


@guarded("e-mail")
def eml_to_text(raw: bytes, source: Path) -> str:
    """An e-mail (RFC 5322/MIME): subject as a ``#`` heading, From/To/Date lines, then the body (the
    first plain-text part, else the first HTML part as text); attachments are named, not read."""
    from knowledge.documents import html_to_text

    # compat32 keeps headers as plain strings: the default policy's structured address parser is
    # not needed to show a header, and is where e-mail parsing has had its slow cases.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = _TextBudget(source, _limit())
    subject = _header(message, "Subject")
    if subject:
        out.add(f"# {subject}")
    for name in ("From", "To", "Date"):
        value = _header(message, name)
        if value:
            out.add(f"{name}: {value}")
    plain = html = None
    attachments: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            attachments.append(" ".join(str(filename or "unnamed").split())[:200])
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and plain is None:
            plain = _payload_text(part)
        elif content_type == "text/html" and html is None:
            html = _payload_text(part)
    body = plain if plain is not None and plain.strip() else html_to_text(html) if html else ""
    out.add("")
    for line in body.splitlines():
        out.add(line.rstrip())
    if attachments:
        out.add("")
        out.add(f"Attachments (not read): {', '.join(attachments)}")
    return out.text()


READERS: dict[str, Callable[[bytes, Path], str]] = {
    ".docx": docx_to_text,
    ".pptx": pptx_to_text,
    ".xlsx": xlsx_to_text,
    ".epub": epub_to_text,
    ".eml": eml_to_text,
}
