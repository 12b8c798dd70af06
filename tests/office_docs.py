"""Small .docx, .pptx, .xlsx, .epub and .eml files written by the tests themselves (no binary fixtures),
and crafted zip archives for the decompression-bomb tests. Each builder returns the file's bytes."""

from __future__ import annotations

import io
import struct
import zipfile
from email.message import EmailMessage
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _zip(members: dict[str, str | bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:  # EPUB: "mimetype" first and uncompressed
            archive.writestr(stored_first, members.pop(stored_first), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _content_types(main: str, main_type: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main}" ContentType="{main_type}"/>{extra}</Types>'
    )


def _root_rels(target: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_RELS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_DOC}" Target="{target}"/></Relationships>'
    )


# -- .docx ---------------------------------------------------------------------------------------
def docx(blocks: list[tuple[str, object]]) -> bytes:
    """A Word document. ``blocks``: ("p", text), ("h1"/"h2", text) — heading styles whose ids are
    localised-looking ("1", "2") so only styles.xml's names say they are headings — or
    ("table", [[cell, ...], ...])."""

    def para(text: str, style: str | None = None) -> str:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        # Two runs: text split across runs must come back joined.
        half = len(text) // 2
        return (
            f'<w:p>{props}<w:r><w:t xml:space="preserve">{escape(text[:half])}</w:t></w:r>'
            f'<w:r><w:t xml:space="preserve">{escape(text[half:])}</w:t></w:r></w:p>'
        )

    body = []
    for kind, value in blocks:
        if kind == "p":
            body.append(para(str(value)))
        elif kind in ("h1", "h2"):
            body.append(para(str(value), style=kind[1]))
        elif kind == "table":
            rows = "".join(
                "<w:tr>" + "".join(f"<w:tc>{para(str(cell))}</w:tc>" for cell in row) + "</w:tr>"
                for row in value  # type: ignore[attr-defined]
            )
            body.append(f"<w:tbl>{rows}</w:tbl>")
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W_NS}">'
        f"<w:body>{''.join(body)}</w:body></w:document>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W_NS}">'
        '<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/></w:style></w:styles>'
    )
    doc_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip(
        {
            "[Content_Types].xml": _content_types("word/document.xml", doc_type),
            "_rels/.rels": _root_rels("word/document.xml"),
            "word/document.xml": document,
            "word/styles.xml": styles,
        }
    )


# -- .pptx ---------------------------------------------------------------------------------------
def pptx(slides: list[tuple[str, list[str], list[list[str]]]]) -> bytes:
    """A presentation: each slide is (title, body paragraphs, table rows). Slide files are numbered in
    reverse so that only presentation.xml's list gives the right order."""
    members: dict[str, str | bytes] = {}
    ids, rels = [], []
    count = len(slides)
    for n, (title, paragraphs, table) in enumerate(slides, start=1):
        part = f"slide{count - n + 1}.xml"
        ids.append(f'<p:sldId id="{255 + n}" r:id="rId{n}"/>')
        rels.append(f'<Relationship Id="rId{n}" Type="{R_NS}/slide" Target="slides/{part}"/>')
        shapes = (
            '<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr/><p:nvPr><p:ph type="title"/></p:nvPr>'
            f"</p:nvSpPr><p:txBody><a:p><a:r><a:t>{escape(title)}</a:t></a:r></a:p></p:txBody></p:sp>"
            if title
            else ""
        )
        body = "".join(f"<a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p>" for text in paragraphs)
        shapes += (
            '<p:sp><p:nvSpPr><p:cNvPr id="3" name="Body"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
            f"<p:txBody>{body}</p:txBody></p:sp>"
        )
        if table:
            rows = "".join(
                "<a:tr>"
                + "".join(
                    f"<a:tc><a:txBody><a:p><a:r><a:t>{escape(c)}</a:t></a:r></a:p></a:txBody></a:tc>"
                    for c in row
                )
                + "</a:tr>"
                for row in table
            )
            shapes += (
                "<p:graphicFrame><a:graphic><a:graphicData>"
                f"<a:tbl>{rows}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>"
            )
        members[f"ppt/slides/{part}"] = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<p:sld xmlns:p="{P_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
            f"<p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:sld>"
        )
    members["ppt/presentation.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="{P_NS}" xmlns:r="{R_NS}">'
        f"<p:sldIdLst>{''.join(ids)}</p:sldIdLst></p:presentation>"
    )
    members["ppt/_rels/presentation.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Relationships xmlns="{PKG_RELS}">{"".join(rels)}</Relationships>'
    )
    pres_type = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    members["[Content_Types].xml"] = _content_types("ppt/presentation.xml", pres_type)
    members["_rels/.rels"] = _root_rels("ppt/presentation.xml")
    return _zip(members)


# -- .xlsx ---------------------------------------------------------------------------------------
def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook written by openpyxl (the library the reader uses, but the write path)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- .epub ---------------------------------------------------------------------------------------
def epub(chapters: list[tuple[str, str]]) -> bytes:
    """An EPUB 3 book: (title, paragraph) chapters, listed in the manifest in reverse so that only the
    spine gives the reading order."""
    manifest = "".join(
        f'<item id="c{n}" href="text/chapter%20{n}.xhtml" media-type="application/xhtml+xml"/>'
        for n in reversed(range(len(chapters)))
    )
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
    members: dict[str, str | bytes] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<?xml version="1.0"?>'
            '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"
        ),
        "OEBPS/content.opf": (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<dc:identifier id="id">urn:uuid:2f1b7c1e-0000-4000-8000-000000000017</dc:identifier>'
            "<dc:title>Knowledge</dc:title><dc:language>en</dc:language></metadata>"
            f"<manifest>{manifest}</manifest><spine>{spine}</spine></package>"
        ),
    }
    for n, (title, text) in enumerate(chapters):
        members[f"OEBPS/text/chapter {n}.xhtml"] = (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
            f"<title>{escape(title)}</title><style>p {{color: red}}</style></head>"
            f"<body><h1>{escape(title)}</h1>"
            f"<p>{escape(text)}</p></body></html>"
        )
    return _zip(members, stored_first="mimetype")


# -- .eml ----------------------------------------------------------------------------------------
def eml(subject: str, plain: str | None, html: str | None = None, attachment: str | None = None) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Li Wei <li@wanderly.example>"
    message["To"] = "support@wanderly.example"
    message["Date"] = "Tue, 14 May 2024 09:30:00 +0800"
    if plain is not None:
        message.set_content(plain)
    if html is not None:
        if plain is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    if attachment:
        message.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename=attachment)
    return message.as_bytes()


# -- crafted zips ----------------------------------------------------------------------------------
def zip_bomb(member: str, inflated_bytes: int) -> bytes:
    """One member of ``inflated_bytes`` zeros: a few hundred KB that inflate ~1000 times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(member, "w") as out:
        block = b"\0" * (1 << 20)
        for _ in range(inflated_bytes >> 20):
            out.write(block)
    return buffer.getvalue()


def lying_zip(member: str, real_bytes: int, declared_bytes: int) -> bytes:
    """A member whose headers declare ``declared_bytes`` uncompressed while its data inflates to
    ``real_bytes``: a bomb that passes a check of the declared sizes."""
    raw = bytearray(zip_bomb(member, real_bytes))
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, declared_bytes)  # local header: uncompressed size
    struct.pack_into("<I", raw, central + 24, declared_bytes)  # central directory: uncompressed size
    return bytes(raw)


def many_members(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            archive.writestr(f"m{n}", b"")
    return buffer.getvalue()


def docx_padded(text: str, empty_paragraphs: int) -> bytes:
    """A Word document of ``empty_paragraphs`` ``<w:p/>`` (6 bytes of XML each, no text) before one
    paragraph of ``text``: a small file whose XML has millions of elements."""
    return replace_in_member(
        docx([("p", text)]), "word/document.xml", b"<w:body>", b"<w:body>" + b"<w:p/>" * empty_paragraphs
    )


def pptx_listing_one_slide(text: str, empty_paragraphs: int, times: int) -> bytes:
    """A presentation whose slide list names its one slide ``times`` times; the slide holds ``text``
    and ``empty_paragraphs`` ``<a:p/>`` (no text)."""
    raw = pptx([("", [text], [])])
    filler = b"<p:sp><p:txBody>" + b"<a:p/>" * empty_paragraphs + b"</p:txBody></p:sp></p:spTree>"
    raw = replace_in_member(raw, "ppt/slides/slide1.xml", b"</p:spTree>", filler)
    entry = b'<p:sldId id="256" r:id="rId1"/>'
    return replace_in_member(raw, "ppt/presentation.xml", entry, entry * times)


def epub_repeating_chapter(text: str, empty_paragraphs: int, times: int) -> bytes:
    """An e-book whose spine lists its one chapter ``times`` times; the chapter holds ``text`` and
    ``empty_paragraphs`` ``<p></p>`` (no text)."""
    raw = epub([("Only chapter", text)])
    raw = replace_in_member(
        raw, "OEBPS/text/chapter 0.xhtml", b"</body>", b"<p></p>" * empty_paragraphs + b"</body>"
    )
    ref = b'<itemref idref="c0"/>'
    return replace_in_member(raw, "OEBPS/content.opf", ref, ref * times)


def xlsx_with_shared_strings(raw: bytes, strings_xml: bytes) -> bytes:
    """``raw`` (from :func:`xlsx`) with ``xl/sharedStrings.xml`` holding ``strings_xml``, declared where
    openpyxl looks for it (the content types)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
        out.writestr("xl/sharedStrings.xml", strings_xml)
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    return replace_in_member(buffer.getvalue(), "[Content_Types].xml", b"</Types>", override)


def replace_in_member(raw: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """``raw`` with ``old`` replaced by ``new`` in one member (to write what a library refuses to)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, data.replace(old, new) if info.filename == member else data)
    return buffer.getvalue()
