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
(openpyxl, a registered LangChain loader) can inflate.

XML is parsed with the standard library's expat, which expands no external entities and stops
entity-expansion ("billion laughs") attacks, and is streamed into small handlers (:class:`_Parts`),
never built into a tree, so memory does not grow with the number of elements. Parsing is what a
small file can still make expensive, so each document has a parse budget: each part is read at most
once however often a slide list or spine names it, at most :data:`MAX_XML_PART_BYTES` in one part,
:data:`MAX_PARSE_BYTES` and :data:`MAX_XML_ELEMENTS` in all. openpyxl builds trees and objects of its
own, so what it will read is streamed and bounded first (:class:`_WorkbookCheck`).

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
import logging
import posixpath
import zipfile
from collections.abc import Callable
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
MAX_SLIDES = 5_000
MAX_SHEETS = 5_000
# XML (and XHTML) parsed, per part and per document. Parsing is streamed, so memory does not grow
# with these; time does (about 1 s per million elements here), and every part is read at most once
# however often a slide list or spine names it.
MAX_XML_PART_BYTES = 32 * 1024 * 1024
MAX_PARSE_BYTES = 64 * 1024 * 1024
MAX_XML_ELEMENTS = 4_000_000
MAX_XML_DEPTH = 256  # libxml2's default limit
# An e-book's chapters together: as much HTML as one .html document may hold (documents.py's
# MAX_DOCUMENT_BYTES); Python's HTML parser takes about 0.6 s a MB of empty tags.
MAX_EPUB_HTML_BYTES = 20 * 1024 * 1024
# openpyxl turns each element of the parts it loads whole into an object (100,000 cell formats: 2.7 s,
# 70 MB) and reads each shared string through its rich-text model (200,000: 2.3 s).
MAX_WORKBOOK_ELEMENTS = 250_000
MAX_SHARED_STRING_ELEMENTS = 1_000_000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OPF = "{http://www.idpf.org/2007/opf}"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

log = logging.getLogger(__name__)


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


class _Handler:
    """Receives one XML part from expat as it is parsed (an ``XMLParser`` target): no tree is built, so
    memory does not grow with the element count. Subclasses override :meth:`on_start` (attributes) and
    :meth:`on_end`, which gets the text inside the element when its tag is in ``text_tags``. Every
    element is charged to the document's budget and nesting is bounded (:meth:`_Parts.parse`)."""

    text_tags: frozenset[str] = frozenset()

    def __init__(self, parts: _Parts) -> None:
        self.parts = parts
        self.part = ""  # the part being parsed, set by _Parts.parse
        self.depth = 0  # the root is at depth 1
        self._text: list[str] | None = None

    def on_start(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        pass

    def on_end(self, tag: str, depth: int, text: str) -> None:
        pass

    # The XMLParser target protocol.
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        self.parts.elements_left -= 1
        if self.parts.elements_left < 0 or self.depth > MAX_XML_DEPTH:
            raise self.parts.too_much(self.part, self.depth)
        if tag in self.text_tags:
            self._text = []
        self.on_start(tag, attrib, self.depth)

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)

    def end(self, tag: str) -> None:
        text = ""
        if self._text is not None and tag in self.text_tags:
            text, self._text = "".join(self._text), None
        self.on_end(tag, self.depth, text)
        self.depth -= 1

    def close(self) -> None:
        pass


class _OnStart(_Handler):
    """Calls ``callback(tag, attributes, depth)`` for every element: for parts read for attributes."""

    def __init__(self, parts: _Parts, callback: Callable[[str, dict[str, str], int], None]) -> None:
        super().__init__(parts)
        self.callback = callback

    def on_start(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        self.callback(tag, attrib, depth)


class _Parts:
    """The XML and XHTML parts of one verified archive, read within one document's parse budget.

    Parts are parsed by expat straight into a :class:`_Handler`, never into a tree (a 24 KB ``.docx``
    holding 16 MiB of ``<w:p/>`` took 280 MB as one). What parsing may cost is charged before and while
    it happens: at most :data:`MAX_XML_PART_BYTES` for one part, :data:`MAX_PARSE_BYTES` and
    :data:`MAX_XML_ELEMENTS` for the whole document, elements nested at most :data:`MAX_XML_DEPTH`
    deep. A part read twice is charged twice, so no listing can make a small file cost more.
    """

    def __init__(self, archive: zipfile.ZipFile, source: Path, kind: str) -> None:
        self.archive = archive
        self.source = source
        self.kind = kind
        self.bytes_left = MAX_PARSE_BYTES
        self.elements_left = MAX_XML_ELEMENTS

    def error(self, message: str) -> InputError:
        return InputError(f"{self.kind} {message}", source=self.source)

    def too_much(self, part: str, depth: int) -> InputError:
        if depth > MAX_XML_DEPTH:
            return self.error(f"part {part[:100]!r} nests XML elements more than {MAX_XML_DEPTH} deep")
        return self.error(
            f"holds more than {MAX_XML_ELEMENTS:,} XML elements, the limit for one document (reached in "
            f"part {part[:100]!r}); split the document"
        )

    def has(self, name: str) -> bool:
        try:
            self.archive.getinfo(name)
        except KeyError:
            return False
        return True

    def _charge(self, name: str) -> None:
        try:
            size = self.archive.getinfo(name).file_size  # exact: open_zip proved every member holds it
        except KeyError:
            raise InputError(
                f"not a valid {self.kind} file ({name[:100]} is missing)", source=self.source
            ) from None
        if size > MAX_XML_PART_BYTES:
            raise self.error(
                f"part {name[:100]!r} holds {size:,} bytes of XML; the limit for one part is "
                f"{MAX_XML_PART_BYTES:,} bytes ({MAX_XML_PART_BYTES >> 20} MiB); split the document"
            )
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise self.error(
                f"needs more than {MAX_PARSE_BYTES:,} bytes ({MAX_PARSE_BYTES >> 20} MiB) of XML parsed, the "
                f"limit for one document (reached at part {name[:100]!r}); split the document"
            )

    def read(self, name: str) -> bytes:
        """The bytes of part ``name``, charged to the budget (for parts parsed by something else)."""
        self._charge(name)
        return self.archive.read(name)

    def parse(self, name: str, handler: _Handler) -> None:
        """Stream part ``name`` into ``handler``; not well-formed XML is an InputError naming it."""
        self._charge(name)
        handler.part, handler.depth = name, 0
        parser = ElementTree.XMLParser(target=handler)  # expat, as ElementTree.fromstring uses
        with self.archive.open(name) as stream:
            try:
                while chunk := stream.read(_INFLATE_CHUNK):
                    parser.feed(chunk)
                parser.close()
            except ElementTree.ParseError as exc:  # also what expat says of entity-expansion attacks
                raise self.error(f"part {name[:100]!r} is not well-formed XML ({str(exc)[:200]})") from None

    def on_start(self, name: str, callback: Callable[[str, dict[str, str], int], None]) -> None:
        """Call ``callback(tag, attributes, depth)`` for every element of part ``name``."""
        self.parse(name, _OnStart(self, callback))


def _relationships(
    parts: _Parts, part: str, count: Callable[[], None] | None = None
) -> dict[str, tuple[str, str]]:
    """Relationship id -> (target part path, relationship type), for the OOXML part ``part``;
    ``count`` is called for each element of its ``.rels`` part."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
    out: dict[str, tuple[str, str]] = {}

    def relationship(tag: str, attrib: dict[str, str], depth: int) -> None:
        if count is not None:
            count()
        target = attrib.get("Target", "")
        if tag != f"{PKG_REL}Relationship" or attrib.get("TargetMode") == "External" or not target:
            return
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[attrib.get("Id", "")] = (path, attrib.get("Type", ""))

    if parts.has(rels_name):
        parts.on_start(rels_name, relationship)
    return out


# -- .docx ---------------------------------------------------------------------------------------
def _docx_heading_levels(parts: _Parts) -> dict[str, int]:
    """Style id -> heading level, from ``styles.xml`` names ("heading 1", "Title"): a localised Word
    gives its heading styles ids such as "1" or "a1", but the names stay English."""
    levels: dict[str, int] = {}
    style_id = ""

    def style(tag: str, attrib: dict[str, str], depth: int) -> None:
        nonlocal style_id
        if depth == 2:
            style_id = attrib.get(f"{W}styleId", "") if tag == f"{W}style" else ""
        elif depth == 3 and tag == f"{W}name" and style_id:
            name = attrib.get(f"{W}val", "").strip().lower()
            if name == "title":
                levels[style_id] = 1
            elif name.startswith("heading ") and name[8:].isdigit():
                levels[style_id] = min(6, int(name[8:]))

    if parts.has("word/styles.xml"):
        parts.on_start("word/styles.xml", style)
    return levels


def _docx_line(text: str, style_id: str, outline: str, levels: dict[str, int]) -> str:
    """A body paragraph's line: a ``#`` heading if its style or outline level makes it one."""
    level = levels.get(style_id, 0)
    lowered = style_id.lower()
    if not level and lowered.startswith("heading") and lowered[7:].isdigit():
        level = min(6, int(lowered[7:]))
    if not level and outline.isdigit():
        level = min(6, int(outline) + 1)
    return f"{'#' * level} {' '.join(text.split())}" if level else text


_DOCX_BREAKS = {f"{W}tab": "\t", f"{W}br": "\n", f"{W}cr": "\n"}  # what a run's tab and breaks add


class _DocxBody(_Handler):
    """The text of ``word/document.xml``'s body: each paragraph a line (``#`` for headings), each
    table row ``a | b``. Paragraphs nested in a paragraph (text boxes) add lines to it; a table
    nested in a table cell adds its rows to that cell's text."""

    text_tags = frozenset({f"{W}t"})

    def __init__(self, parts: _Parts, levels: dict[str, int], out: _TextBudget) -> None:
        super().__init__(parts)
        self.levels = levels
        self.out = out
        self.in_body = False
        self.paragraph: list[str] | None = None  # text of the outermost open paragraph
        self.paragraph_depth = 0
        self.in_props = False  # inside that paragraph's own <w:pPr>
        self.style_id = ""
        self.outline = ""
        self.rows: list[list[str]] = []  # open table rows, innermost last: their cells' text
        self.cells: list[list[str]] = []  # open table cells, innermost last: their paragraphs' text

    def on_start(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        if not self.in_body:
            self.in_body = tag == f"{W}body"
        elif tag == f"{W}p":
            if self.paragraph is None:
                self.paragraph, self.paragraph_depth = [], depth
                self.style_id = self.outline = ""
            else:
                self.paragraph.append("\n")
        elif self.paragraph is not None and depth == self.paragraph_depth + 1 and tag == f"{W}pPr":
            self.in_props = True
        elif self.in_props and depth == self.paragraph_depth + 2:
            if tag == f"{W}pStyle":
                self.style_id = attrib.get(f"{W}val", "")
            elif tag == f"{W}outlineLvl":
                self.outline = attrib.get(f"{W}val", "")
        elif tag == f"{W}tr":
            self.rows.append([])
        elif tag == f"{W}tc":
            self.cells.append([])

    def on_end(self, tag: str, depth: int, text: str) -> None:
        if not self.in_body:
            return
        if self.paragraph is not None and (tag == f"{W}t" or tag in _DOCX_BREAKS):
            self.paragraph.append(text if tag == f"{W}t" else _DOCX_BREAKS[tag])
        elif tag == f"{W}pPr" and depth == self.paragraph_depth + 1:
            self.in_props = False
        elif tag == f"{W}p" and self.paragraph is not None and depth == self.paragraph_depth:
            line = "".join(self.paragraph).strip()
            self.paragraph = None
            if self.cells:
                self.cells[-1].append(" ".join(line.split()))
            elif line:
                self.out.add(_docx_line(line, self.style_id, self.outline, self.levels))
        elif tag == f"{W}tc" and self.cells:
            cell = " ".join(self.cells.pop()).strip()
            if self.rows:
                self.rows[-1].append(cell)
        elif tag == f"{W}tr" and self.rows:
            cells = self.rows.pop()
            if any(cells):
                if self.cells:  # a table inside a table cell
                    self.cells[-1].append(" | ".join(cells))
                else:
                    self.out.add(" | ".join(cells))
        elif tag == f"{W}body":
            self.in_body = False


@guarded("Word document")
def docx_to_text(raw: bytes, source: Path) -> str:
    """Body text of a Word document: paragraphs, headings as ``#`` lines, tables as ``a | b`` rows
    (headers, footers, comments and tracked deletions are left out)."""
    kind = "Word (.docx)"
    with open_zip(raw, source, kind) as archive:
        parts = _Parts(archive, source, kind)
        out = _TextBudget(source, _limit())
        parts.parse("word/document.xml", _DocxBody(parts, _docx_heading_levels(parts), out))
    return out.text()


# -- .pptx ---------------------------------------------------------------------------------------
class _Slide(_Handler):
    """Text of one slide's shapes in drawing order: a title placeholder's paragraphs as ``##``
    lines, other shapes' paragraphs as lines, table rows as ``a | b``."""

    text_tags = frozenset({f"{A}t"})

    def __init__(self, parts: _Parts, out: _TextBudget) -> None:
        super().__init__(parts)
        self.out = out
        self.tree_depth = 0  # depth of <p:spTree>; 0 outside it
        self.shape_depth = 0  # depth of the open <p:sp>; 0 outside one
        self.title = False
        self.paragraph: list[str] | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def on_start(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        if not self.tree_depth:
            if tag == f"{P}spTree":
                self.tree_depth = depth
        elif tag == f"{P}sp" and not self.shape_depth:
            self.shape_depth, self.title = depth, False
        elif tag == f"{P}ph" and self.shape_depth:
            self.title = attrib.get("type") in ("title", "ctrTitle")
        elif tag == f"{A}p" and self.paragraph is None:
            self.paragraph = []
        elif tag == f"{A}tr":
            self.row = []
        elif tag == f"{A}tc":
            self.cell = []

    def on_end(self, tag: str, depth: int, text: str) -> None:
        if not self.tree_depth:
            return
        if self.paragraph is not None and tag in (f"{A}t", f"{A}br"):
            self.paragraph.append(text if tag == f"{A}t" else " ")
        elif tag == f"{A}p" and self.paragraph is not None:
            line = " ".join("".join(self.paragraph).split())
            self.paragraph = None
            if self.cell is not None:
                self.cell.append(line)
            elif self.shape_depth and line:
                self.out.add(f"## {line}" if self.title else line)
        elif tag == f"{A}tc" and self.cell is not None:
            if self.row is not None:
                self.row.append(" ".join(self.cell).strip())
            self.cell = None
        elif tag == f"{A}tr" and self.row is not None:
            if any(self.row):
                self.out.add(" | ".join(self.row))
            self.row = None
        elif tag == f"{P}sp" and depth == self.shape_depth:
            self.shape_depth = 0
        elif tag == f"{P}spTree" and depth == self.tree_depth:
            self.tree_depth = 0


@guarded("PowerPoint presentation")
def pptx_to_text(raw: bytes, source: Path) -> str:
    """Text of every slide in presentation order (each slide's title as a ``##`` heading, tables as
    ``a | b`` rows); speaker notes and slide masters are left out. A slide listed again (one part
    twice in the slide list, a file PowerPoint calls damaged) is read once."""
    kind = "PowerPoint (.pptx)"
    with open_zip(raw, source, kind) as archive:
        parts = _Parts(archive, source, kind)
        slide_ids: list[str] = []

        def slide_list(tag: str, attrib: dict[str, str], depth: int) -> None:
            if depth == 3 and tag == f"{P}sldId":  # <p:presentation><p:sldIdLst><p:sldId>
                slide_ids.append(attrib.get(f"{R}id", ""))
                if len(slide_ids) > MAX_SLIDES:
                    raise parts.error(f"lists more than {MAX_SLIDES:,} slides; the limit is {MAX_SLIDES:,}")

        parts.on_start("ppt/presentation.xml", slide_list)
        targets = _relationships(parts, "ppt/presentation.xml")
        listed = [targets[i][0] for i in slide_ids if i in targets]
        out = _TextBudget(source, _limit())
        read: set[str] = set()
        for part in listed:
            if part in read:
                continue
            read.add(part)
            before = len(out.lines)
            parts.parse(part, _Slide(parts, out))
            if len(out.lines) > before and not out.lines[before].startswith("## "):
                out.lines.insert(before, f"## Slide {len(read)}")
        if len(listed) > len(read):
            log.warning(
                "%s: %d repeated slide entries in ppt/presentation.xml skipped",
                source,
                len(listed) - len(read),
            )
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


class _Worksheet(_Handler):
    """A sheet's part, checked as openpyxl will read it: rows and cells inside Excel's grid (openpyxl
    steps through every row up to one numbered two billion), at most ``MAX_SHEET_ROWS`` rows, and
    every element outside the rows (which openpyxl keeps or turns into objects) counted."""

    def __init__(self, check: _WorkbookCheck) -> None:
        super().__init__(check.parts)
        self.check = check
        self.row_depth = 0  # depth of the open <row>; 0 outside one
        self.rows = 0

    def on_start(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        name = tag.rsplit("}", 1)[-1]
        if not self.row_depth:
            if name != "row":
                self.check.count_object(self.part)
            else:
                self.row_depth = depth
                self.rows += 1
                if self.rows > MAX_SHEET_ROWS:
                    raise self.parts.error(f"{self.part[:100]} has more than {MAX_SHEET_ROWS:,} rows")
        ref = attrib.get("r")
        if ref is None or name not in ("row", "c"):
            return
        letters = ref.rstrip("0123456789") if name == "c" else ""
        digits = ref[len(letters) :]
        row = int(digits) if digits.isdigit() and len(digits) <= 10 else MAX_SHEET_ROWS + 1
        column = _column_number(letters) if letters.isalpha() and len(letters) <= 3 else 0
        if row > MAX_SHEET_ROWS or (name == "c" and not 1 <= column <= MAX_SHEET_COLUMNS):
            raise InputError(
                f"{self.part[:100]} addresses {name} {ref[:20]!r}, outside Excel's grid of "
                f"{MAX_SHEET_ROWS:,} rows and {MAX_SHEET_COLUMNS:,} columns",
                source=self.parts.source,
            )

    def on_end(self, tag: str, depth: int, text: str) -> None:
        if depth == self.row_depth:
            self.row_depth = 0


class _WorkbookCheck:
    """What openpyxl (3.1, read-only mode) will parse, streamed and bounded before openpyxl parses any
    of it, so that no workbook within the limits can stall it or fill memory:

    - parts it loads whole, as a tree and an object per element (content types, workbook, styles,
      properties, relationships, chartsheets with their drawings and charts), and the parts of a
      sheet outside its rows (which it keeps): at most :data:`MAX_WORKBOOK_ELEMENTS` elements in all;
    - shared strings, all read before the first cell: at most :data:`MAX_SHARED_STRING_ELEMENTS`;
    - sheets: at most :data:`MAX_SHEETS`, each a part of its own (one part listed 5,000 times would be
      parsed 5,000 times), each checked by :class:`_Worksheet`.

    Everything streamed here is also charged to the document's budget (:class:`_Parts`). The steps
    follow ``openpyxl.reader.excel.ExcelReader.read``; a part openpyxl needs and cannot find is left
    for openpyxl to refuse."""

    def __init__(self, parts: _Parts) -> None:
        self.parts = parts
        self.objects_left = MAX_WORKBOOK_ELEMENTS
        self.strings_left = MAX_SHARED_STRING_ELEMENTS

    def count_object(self, part: str) -> None:
        self.objects_left -= 1
        if self.objects_left < 0:
            raise self.parts.error(
                f"holds more than {MAX_WORKBOOK_ELEMENTS:,} XML elements outside sheet rows and shared "
                f"strings, the limit (styles, names, properties and charts, which openpyxl loads whole; "
                f"reached in part {part[:100]!r})"
            )

    def whole(self, part: str, callback: Callable[[str, dict[str, str], int], None] | None = None) -> None:
        """Check a part openpyxl loads whole, passing its elements to ``callback``."""

        def element(tag: str, attrib: dict[str, str], depth: int) -> None:
            self.count_object(part)
            if callback is not None:
                callback(tag, attrib, depth)

        self.parts.on_start(part, element)

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        return _relationships(self.parts, part, lambda: self.count_object(part))

    def run(self) -> None:
        from openpyxl.xml.constants import (
            ARC_CONTENT_TYPES,
            ARC_CORE,
            ARC_CUSTOM,
            ARC_STYLE,
            ARC_WORKBOOK,
            SHARED_STRINGS,
            XLSM,
            XLSX,
            XLTM,
            XLTX,
        )

        overrides: dict[str, str] = {}  # content type -> its first part, as openpyxl's Manifest.find
        defaults: set[str] = set()

        def content_type(tag: str, attrib: dict[str, str], depth: int) -> None:
            if tag.endswith("}Override"):
                overrides.setdefault(attrib.get("ContentType", ""), attrib.get("PartName", "")[1:])
            elif tag.endswith("}Default"):
                defaults.add(attrib.get("ContentType", ""))

        self.whole(ARC_CONTENT_TYPES, content_type)
        strings = overrides.get(SHARED_STRINGS, "")
        if strings and self.parts.has(strings):
            self.parts.on_start(strings, self._shared_string)
        for name in (ARC_STYLE, ARC_CORE, ARC_CUSTOM):
            if self.parts.has(name):
                self.whole(name)
        workbook_types = (XLTM, XLTX, XLSM, XLSX)  # openpyxl's order of preference
        workbook = next((overrides[t] for t in workbook_types if t in overrides), "")
        if not workbook and defaults & set(workbook_types):
            workbook = ARC_WORKBOOK
        if not workbook or not self.parts.has(workbook):
            return
        sheet_ids: list[str] = []

        def sheet(tag: str, attrib: dict[str, str], depth: int) -> None:
            if depth == 3 and tag == f"{SHEET}sheet":  # <workbook><sheets><sheet>
                sheet_ids.append(attrib.get(f"{R}id", ""))
                if len(sheet_ids) > MAX_SHEETS:
                    raise self.parts.error(
                        f"has more than {MAX_SHEETS:,} sheets; the limit is {MAX_SHEETS:,}"
                    )

        self.whole(workbook, sheet)
        targets = self.relationships(workbook)
        seen: set[str] = set()
        for rel_id in sheet_ids:
            target, rel_type = targets.get(rel_id, ("", ""))
            if not target or not self.parts.has(target):
                continue
            if target in seen:
                raise self.parts.error(
                    f"lists the sheet part {target[:100]!r} more than once in {workbook}; each sheet must "
                    "be a part of its own"
                )
            seen.add(target)
            sheet_rels = self.relationships(target)
            if "chartsheet" not in rel_type:
                self.parts.parse(target, _Worksheet(self))
                continue
            self.whole(target)
            for drawing, drawing_type in sheet_rels.values():
                if drawing_type.endswith("/drawing") and self.parts.has(drawing):
                    self.whole(drawing)
                    for chart, chart_type in self.relationships(drawing).values():
                        if chart_type.endswith("/chart") and self.parts.has(chart):
                            self.whole(chart)

    def _shared_string(self, tag: str, attrib: dict[str, str], depth: int) -> None:
        self.strings_left -= 1
        if self.strings_left < 0:
            raise self.parts.error(
                f"shared strings hold more than {MAX_SHARED_STRING_ELEMENTS:,} XML elements, the limit "
                "(openpyxl reads them all before the first cell); export the data you need as CSV or split it"
            )


@guarded("Excel workbook")
def xlsx_to_text(raw: bytes, source: Path) -> str:
    """Every sheet (``#`` sheet name) as ``a | b | c`` rows of the values of its non-empty cells
    (cached results for formulas, dates as ISO dates); empty rows are dropped."""
    import openpyxl

    kind = "Excel (.xlsx)"
    with open_zip(raw, source, kind) as archive:  # the bomb check, before openpyxl inflates anything
        _WorkbookCheck(_Parts(archive, source, kind)).run()
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
    """The book's chapters in reading (spine) order, each XHTML file as text (see ``html_to_text``).
    A chapter listed again in the spine (which EPUB forbids) is read once."""
    from knowledge.documents import html_to_text

    kind = "EPUB (.epub)"
    with open_zip(raw, source, kind) as archive:
        parts = _Parts(archive, source, kind)
        rootfiles: list[str] = []

        def rootfile(tag: str, attrib: dict[str, str], depth: int) -> None:
            if depth == 3 and tag == f"{CONTAINER}rootfile":  # <container><rootfiles><rootfile>
                rootfiles.append(attrib.get("full-path", ""))

        parts.on_start("META-INF/container.xml", rootfile)
        opf_path = rootfiles[0] if rootfiles else ""
        if not opf_path:
            raise InputError(f"not a valid {kind} file (no package document in container.xml)", source=source)
        manifest: dict[str, str] = {}  # item id -> href, for XHTML items
        items = 0
        spine: list[str] = []

        def package(tag: str, attrib: dict[str, str], depth: int) -> None:
            nonlocal items
            if tag == f"{OPF}item":
                items += 1
                if items > MAX_ZIP_MEMBERS:  # each item names a member of the archive
                    raise parts.error(f"manifest lists more than {MAX_ZIP_MEMBERS:,} items")
                if attrib.get("media-type") in ("application/xhtml+xml", "text/html"):
                    manifest[attrib.get("id", "")] = attrib.get("href", "")
            elif tag == f"{OPF}itemref":
                spine.append(attrib.get("idref", ""))
                if len(spine) > MAX_EPUB_CHAPTERS:
                    raise parts.error(
                        f"lists more than {MAX_EPUB_CHAPTERS:,} chapters in its spine; the limit is "
                        f"{MAX_EPUB_CHAPTERS:,}"
                    )

        parts.on_start(opf_path, package)
        base = posixpath.dirname(opf_path)
        listed = [
            posixpath.normpath(posixpath.join(base, unquote(manifest[idref])))
            for idref in spine
            if idref in manifest
        ]
        out = _TextBudget(source, _limit())
        html_left = MAX_EPUB_HTML_BYTES
        read: set[str] = set()
        for path in listed:
            if path in read:
                continue
            read.add(path)
            chapter = parts.read(path)
            html_left -= len(chapter)
            if html_left < 0:
                raise parts.error(
                    f"holds more than {MAX_EPUB_HTML_BYTES:,} bytes of chapter HTML, the limit for one book "
                    f"(reached at {path[:100]!r}); split it"
                )
            text = html_to_text(chapter.decode("utf-8", errors="replace"))
            if text:
                out.add(text)
                out.add("")
        if len(listed) > len(read):
            log.warning(
                "%s: %d repeated chapter entries in %s skipped",
                source,
                len(listed) - len(read),
                opf_path[:100],
            )
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
