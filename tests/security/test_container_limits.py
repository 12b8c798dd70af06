"""Limits on zip-based and e-mail knowledge documents (.docx, .pptx, .xlsx, .epub, .eml) and on
LangChain loaders plugged in with ``register_loader`` (issue 17).

A crafted archive must be refused before it is inflated, whichever reader (ours or a registered
LangChain loader) would read it; each probe runs in a forked child with a time and memory cap
(:func:`run_bounded`), so inflating the bomb would fail the test instead of eating the machine.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from core.errors import InputError
from knowledge import documents, formats
from knowledge.documents import read_documents, register_loader, unregister_loader
from tests import office_docs
from tests.security.test_input_limits import run_bounded

pytestmark = [pytest.mark.unit, pytest.mark.security]

BOMB_BYTES = 300 << 20  # inflates past MAX_ZIP_UNCOMPRESSED (256 MiB)


def _knowledge(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return office_docs.zip_bomb("word/document.xml", BOMB_BYTES)


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx", ".epub"])
def test_zip_bomb_is_refused_before_inflating(tmp_path: Path, bomb: bytes, suffix: str) -> None:
    assert len(bomb) < 1 << 20  # under a MiB on disk: well within the document size limit
    folder = _knowledge(tmp_path, {f"sheet{suffix}": bomb})
    # 128 MiB of address space more than the parent: inflating the 300 MiB member cannot fit.
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=128)
    assert kind == "InputError", message
    assert f"sheet{suffix}" in message and "would inflate to 314,572,800 bytes" in message
    assert "decompression bomb" in message and seconds < 10


def test_zip_bomb_never_reaches_a_registered_langchain_loader(tmp_path: Path, bomb: bytes) -> None:
    calls: list[Path] = []

    def factory(path: Path):  # type: ignore[no-untyped-def]
        from langchain_community.document_loaders import Docx2txtLoader

        calls.append(path)
        return Docx2txtLoader(str(path))

    register_loader(".docx", factory)
    try:
        folder = _knowledge(tmp_path, {"bomb.docx": bomb})
        with pytest.raises(InputError, match=r"bomb\.docx: docx archive would inflate"):
            read_documents(folder, tmp_path)
        assert calls == []
        # The same guard holds for a suffix the built-in readers do not know, if the bytes are a zip.
        register_loader(".odt", factory)
        (folder / "bomb.docx").rename(folder / "bomb.odt")
        with pytest.raises(InputError, match=r"bomb\.odt: odt archive would inflate"):
            read_documents(folder, tmp_path)
        assert calls == []
    finally:
        unregister_loader(".docx")
        unregister_loader(".odt")


def test_a_member_that_lies_about_its_size_is_not_inflated(tmp_path: Path) -> None:
    # Declares 1,000 bytes, inflates to 100 MiB: passes the declared-size check. ZipFile.read() would
    # inflate the whole compressed chunk at once (a MemoryError under this cap, found by this test);
    # the 64 KiB verification pass stops at the declared size and fails the CRC check instead.
    liar = office_docs.lying_zip("word/document.xml", 100 << 20, 1000)
    folder = _knowledge(tmp_path, {"liar.docx": liar})
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "InputError", message
    assert (
        "liar.docx: Word (.docx) archive member 'word/document.xml' does not hold what it declares" in message
    )
    assert "BadZipFile" in message and seconds < 10


def test_a_lying_member_never_reaches_openpyxl(tmp_path: Path) -> None:
    liar = office_docs.lying_zip("xl/workbook.xml", 100 << 20, 1000)
    folder = _knowledge(tmp_path, {"liar.xlsx": liar})
    kind, message, _ = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "InputError" and "liar.xlsx: Excel (.xlsx) archive member 'xl/workbook.xml'" in message


def test_too_many_members(tmp_path: Path) -> None:
    folder = _knowledge(tmp_path, {"many.pptx": office_docs.many_members(formats.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(InputError, match=r"many\.pptx: PowerPoint \(\.pptx\) archive has 10,001 members"):
        read_documents(folder, tmp_path)


def test_billion_laughs_in_a_docx_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f'<w:document xmlns:w="{office_docs.W_NS}"><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", xml)
    folder = _knowledge(tmp_path, {"laughs.docx": buffer.getvalue()})
    kind, message, _ = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=256)
    assert kind == "InputError" and "laughs.docx: unreadable Word document (ParseError" in message


def test_a_sheet_outside_excels_grid_is_refused_at_once(tmp_path: Path) -> None:
    # openpyxl steps through every missing row: row 2,000,000,000 took 5.7 s and would take longer.
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.cell(row=1, column=1, value="a")
    workbook.active.cell(row=999_999, column=1, value="b")  # openpyxl refuses to write past row 1,048,576
    buffer = io.BytesIO()
    workbook.save(buffer)
    far = office_docs.replace_in_member(
        buffer.getvalue(), "xl/worksheets/sheet1.xml", b"999999", b"2000000000"
    )
    folder = _knowledge(tmp_path, {"far.xlsx": far})
    started = time.perf_counter()
    with pytest.raises(
        InputError, match=r"far\.xlsx: xl/worksheets/sheet1\.xml addresses .*outside Excel's grid"
    ):
        read_documents(folder, tmp_path)
    assert time.perf_counter() - started < 2


def test_far_apart_cells_are_bounded_by_the_cell_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 201):  # every row padded to column XFD by openpyxl: 200 x 16,384 cells
        sheet.cell(row=row, column=1, value="a")
        sheet.cell(row=row, column=16_384, value="z")
    buffer = io.BytesIO()
    workbook.save(buffer)
    folder = _knowledge(tmp_path, {"wide.xlsx": buffer.getvalue()})
    monkeypatch.setattr(formats, "MAX_SHEET_CELLS", 1_000_000)
    with pytest.raises(InputError, match=r"wide\.xlsx: workbook has more than 1,000,000 cells"):
        read_documents(folder, tmp_path)
    monkeypatch.setattr(formats, "MAX_SHEET_CELLS", 10_000_000)
    text = read_documents(folder, tmp_path).documents[0].text
    assert text.splitlines()[1] == "a | z"  # far-apart cells do not become 16,382 empty columns


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plain.docx", b"not a zip at all", r"plain\.docx: not a Word \(\.docx\) file \(not a zip archive\)"),
        ("empty.pptx", b"", r"empty\.pptx: not a PowerPoint \(\.pptx\) file"),
        (
            "nobody.docx",
            office_docs.many_members(3),
            r"nobody\.docx: not a valid Word \(\.docx\) file \(word/",
        ),
        ("broken.epub", office_docs.many_members(1), r"broken\.epub: not a valid EPUB \(\.epub\) file"),
        ("broken.xlsx", office_docs.many_members(2), r"broken\.xlsx: unreadable Excel workbook"),
    ],
)
def test_broken_containers_name_the_file(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    folder = _knowledge(tmp_path, {name: data})
    with pytest.raises(InputError, match=message):
        read_documents(folder, tmp_path)


def test_container_text_is_bounded_while_it_is_produced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_CHARS", 10_000)
    docx = office_docs.docx([("p", "Harbor Blend ships within 48 hours. " * 20)] * 50)
    folder = _knowledge(tmp_path, {"long.docx": docx})
    with pytest.raises(InputError, match=r"long\.docx: document text longer than the limit"):
        read_documents(folder, tmp_path)


def test_an_email_with_huge_headers_and_deep_nesting_stays_fast(tmp_path: Path) -> None:
    nested = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for n in range(1, 200):
        nested += f"--b{n - 1}\r\nContent-Type: multipart/mixed; boundary=b{n}\r\n\r\n".encode()
    headers = b"Subject: " + b"=?utf-8?q?" + b"a" * 500_000 + b"?=\r\nTo: " + b"(" * 200_000 + b"\r\n"
    folder = _knowledge(
        tmp_path, {"deep.eml": nested + b"--b199\r\n\r\nbody\r\n", "wide.eml": headers + b"\r\nhi"}
    )
    kind, value, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=30, memory_mib=512)
    assert kind in ("ok", "InputError"), value
    assert seconds < 10
