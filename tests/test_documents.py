"""Knowledge documents: formats, bad files, confinement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import InputError
from knowledge.chunking import chunk_document, split_sentences
from knowledge.documents import html_to_text, read_documents
from tests.pdfs import pdf_from_objects

pytestmark = pytest.mark.unit


def _kdir(tmp_path: Path) -> Path:
    k = tmp_path / "knowledge"
    k.mkdir()
    return k


def test_all_formats(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    (k / "a.md").write_text("# Title\nSome *text*.")
    (k / "b.txt").write_text("plain text")
    (k / "c.html").write_text(
        "<html><head><title>x</title><script>steal()</script></head><body><nav>Menu</nav>"
        "<h2>FAQ</h2><p>Refunds within 7 days.</p></body></html>"
    )
    (k / "d.json").write_text('[{"author": "Li", "rating": 5, "text": "很好"}]')
    (k / "e.png").write_bytes(b"\x89PNG\r\n")
    (k / ".hidden.md").write_text("secret")
    found = read_documents(k, tmp_path)
    by_path = {d.path: d for d in found.documents}
    assert sorted(by_path) == ["knowledge/a.md", "knowledge/b.txt", "knowledge/c.html", "knowledge/d.json"]
    html = by_path["knowledge/c.html"].text
    assert "Refunds within 7 days." in html and "## FAQ" in html
    assert "steal" not in html and "Menu" not in html
    assert "author: Li; rating: 5; text: 很好" in by_path["knowledge/d.json"].text
    assert found.skipped == ["knowledge/e.png"]
    assert len(by_path["knowledge/a.md"].sha256) == 64


def test_binary_file_is_an_input_error(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    (k / "x.txt").write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(InputError, match=r"x\.txt: binary file"):
        read_documents(k, tmp_path)


def test_non_utf8_is_an_input_error(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    (k / "gbk.txt").write_bytes("探索未知".encode("gbk"))
    with pytest.raises(InputError, match=r"gbk\.txt: not UTF-8"):
        read_documents(k, tmp_path)


def test_invalid_json_names_line(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    (k / "r.json").write_text('{"a": 1,\n "b": }')
    with pytest.raises(InputError, match=r"r\.json: invalid JSON at line 2"):
        read_documents(k, tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    if os.geteuid() == 0:  # root reads any mode: use a dangling link, which no one can read
        (k / "locked.md").symlink_to(k / "gone.md")
    else:
        (k / "locked.md").write_text("x")
        (k / "locked.md").chmod(0)
    with pytest.raises(InputError, match=r"locked\.md: cannot read document"):
        read_documents(k, tmp_path)


def test_symlink_escaping_brand_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("secret")
    brand = tmp_path / "brand"
    k = brand / "knowledge"
    k.mkdir(parents=True)
    (k / "ok.md").write_text("fine")
    (k / "link.md").symlink_to(outside)
    with pytest.raises(InputError, match="outside the brand folder"):
        read_documents(k, brand)


def test_empty_knowledge_folder(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    with pytest.raises(InputError, match="no readable documents"):
        read_documents(k, tmp_path)


def test_chinese_sentences_split_on_chinese_punctuation() -> None:
    assert split_sentences("探索未知。发现美丽！真的吗？好；Yes. No!") == [
        "探索未知。",
        "发现美丽！",
        "真的吗？",
        "好；",
        "Yes.",
        "No!",
    ]


def test_chunks_respect_size_and_ids_are_stable() -> None:
    text = "# 路线\n" + "".join(f"第{i}天我们徒步前往雨崩村，沿途欣赏雪山与森林。" for i in range(1, 30))
    a = chunk_document("knowledge/r.md", text, max_chars=120)
    b = chunk_document("knowledge/r.md", text, max_chars=120)
    assert [p.id for p in a] == [p.id for p in b]
    assert all(len(p.text) <= 120 for p in a) and len(a) > 3
    assert all(p.section == "路线" for p in a)
    assert a[0].id.startswith("knowledge/r.md#0-")
    changed = chunk_document("knowledge/r.md", text.replace("第1天", "第一天"), max_chars=120)
    assert changed[0].id != a[0].id and changed[-1].id == a[-1].id


def test_html_blocks_become_lines() -> None:
    assert html_to_text("<p>a</p><p>b &amp; c</p>") == "a\nb & c"


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, written byte by byte (no PDF library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def test_pdf_text_layer(tmp_path: Path) -> None:
    k = _kdir(tmp_path)
    (k / "sheet.pdf").write_bytes(_minimal_pdf("Harbor Blend ships within 48 hours."))
    (k / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(InputError, match=r"broken\.pdf: (unreadable PDF|PDF has no text)"):
        read_documents(k, tmp_path)
    (k / "broken.pdf").unlink()
    doc = read_documents(k, tmp_path).documents[0]
    assert doc.path == "knowledge/sheet.pdf" and "Harbor Blend ships within 48 hours." in doc.text


def test_keep_sentences_and_loop_removal() -> None:
    from agents.drafts import drop_repeated_sentences
    from knowledge.chunking import keep_sentences

    assert keep_sentences("Go now. Bad one! Stay.\n\nBad two.", lambda s: "Bad" not in s) == "Go now. Stay."
    assert keep_sentences("山很美。不好。水很清。", lambda s: s != "不好。") == "山很美。水很清。"
    assert (
        drop_repeated_sentences("我们出发吧。山很美。我们出发吧。\n\n新的段落。山很美。")
        == "我们出发吧。山很美。\n\n新的段落。"
    )


# -- office files, e-books and e-mails (knowledge/formats.py) and LangChain loaders ------------------


def test_office_ebook_and_email_documents(tmp_path: Path) -> None:
    import datetime

    from tests import office_docs

    k = _kdir(tmp_path)
    (k / "sheet.docx").write_bytes(
        office_docs.docx(
            [
                ("h1", "Harbor Blend"),
                ("p", "Roasted in small batches on a 15 kg roaster."),
                ("table", [["Size", "Price"], ["340 g", "$18"], ["1 kg", "$46"]]),
                ("h2", "Shipping"),
                ("p", "Every bag ships within 48 hours of roasting."),
            ]
        )
    )
    (k / "deck.pptx").write_bytes(
        office_docs.pptx(
            [
                ("Our story", ["Founded in 2015 in Portland."], []),
                ("", ["Tide Club members save 10%."], [["Plan", "Bags"], ["Monthly", "2"]]),
            ]
        )
    )
    (k / "prices.xlsx").write_bytes(
        office_docs.xlsx(
            {
                "Prices": [
                    ["Product", "Price", "Since"],
                    ["Harbor Blend", 18, datetime.datetime(2024, 5, 1)],
                ],
                "Origins": [["Dawn Roast", "Ethiopia", 19.5]],
            }
        )
    )
    (k / "guide.epub").write_bytes(
        office_docs.epub([("第一章 雨崩", "徒步七天，每团最多 10 人。"), ("Chapter 2", "Glaciers at dawn.")])
    )
    (k / "refund.eml").write_bytes(
        office_docs.eml("出发前 20 天取消", "全额退款。\nThanks, Li", "<p>ignored html</p>", "terms.pdf")
    )
    (k / "html-only.eml").write_bytes(
        office_docs.eml("Refunds", None, "<p>Refund <b>80%</b></p><script>x()</script>")
    )
    docs = {d.path.split("/")[-1]: d.text for d in read_documents(k, tmp_path).documents}

    assert docs["sheet.docx"].splitlines() == [
        "# Harbor Blend",
        "Roasted in small batches on a 15 kg roaster.",
        "Size | Price",
        "340 g | $18",
        "1 kg | $46",
        "## Shipping",
        "Every bag ships within 48 hours of roasting.",
    ]
    # Slides in presentation order (their files are numbered in reverse), untitled slides numbered.
    assert docs["deck.pptx"].splitlines() == [
        "## Our story",
        "Founded in 2015 in Portland.",
        "## Slide 2",
        "Tide Club members save 10%.",
        "Plan | Bags",
        "Monthly | 2",
    ]
    assert docs["prices.xlsx"].splitlines() == [
        "# Prices",
        "Product | Price | Since",
        "Harbor Blend | 18 | 2024-05-01",
        "# Origins",
        "Dawn Roast | Ethiopia | 19.5",
    ]
    # Spine order, not manifest order; <head> and <style> dropped.
    assert docs["guide.epub"] == "# 第一章 雨崩\n徒步七天，每团最多 10 人。\n\n# Chapter 2\nGlaciers at dawn."
    refund = docs["refund.eml"]
    assert refund.startswith("# 出发前 20 天取消\nFrom: Li Wei <li@wanderly.example>\n")
    assert "全额退款。\nThanks, Li" in refund and "ignored html" not in refund
    assert refund.endswith("Attachments (not read): terms.pdf")
    assert docs["html-only.eml"].endswith("\n\nRefund 80%") and "x()" not in docs["html-only.eml"]
    # Headings become passage sections, so the chunker cites "Shipping" for the shipping sentence.
    passages = chunk_document("knowledge/sheet.docx", docs["sheet.docx"], max_chars=80)
    assert any(p.section == "Shipping" and "48 hours" in p.text for p in passages)


def test_a_registered_langchain_loader_reads_a_private_copy(tmp_path: Path) -> None:
    from langchain_community.document_loaders import Docx2txtLoader

    from knowledge import documents
    from knowledge.documents import register_loader, supported_suffixes, unregister_loader
    from tests import office_docs

    k = _kdir(tmp_path)
    (k / "sheet.docx").write_bytes(
        office_docs.docx([("h1", "Harbor Blend"), ("table", [["Size", "Price"], ["340 g", "$18"]])])
    )
    (k / "notes.odt").write_bytes(office_docs.docx([("p", "Dawn Roast is a light roast from Ethiopia.")]))
    seen: list[tuple[Path, bytes]] = []

    def docx2txt_loader(path: Path) -> Docx2txtLoader:
        seen.append((path, path.read_bytes()))
        return Docx2txtLoader(str(path))

    assert ".odt" not in supported_suffixes()
    assert [d.path for d in read_documents(k, tmp_path).documents] == ["knowledge/sheet.docx"]
    register_loader(".docx", docx2txt_loader)
    register_loader(".odt", docx2txt_loader)
    try:
        docs = {d.path: d.text for d in read_documents(k, tmp_path).documents}
        # docx2txt, as measured in docs/langchain.md: no headings, each table cell its own paragraph.
        assert docs["knowledge/sheet.docx"] == "Harbor Blend\n\nSize\n\nPrice\n\n340 g\n\n$18"
        assert docs["knowledge/notes.odt"] == "Dawn Roast is a light roast from Ethiopia."
        # The loader read a copy of the very bytes checked, outside the brand folder, deleted afterwards.
        assert sorted(data for _, data in seen) == sorted(
            [(k / "sheet.docx").read_bytes(), (k / "notes.odt").read_bytes()]
        )
        assert all(not path.is_relative_to(tmp_path) and not path.exists() for path, _ in seen)
        # The limits hold before the loader runs: size ...
        seen.clear()
        documents.MAX_DOCUMENT_BYTES, saved = 100, documents.MAX_DOCUMENT_BYTES
        try:
            with pytest.raises(InputError, match=r"notes\.odt: document too large"):
                read_documents(k, tmp_path)
        finally:
            documents.MAX_DOCUMENT_BYTES = saved
        assert seen == []
        # ... a link out of the brand folder ...
        outside = tmp_path.parent / f"{tmp_path.name}-outside.odt"
        outside.write_bytes((k / "notes.odt").read_bytes())
        (k / "link.odt").symlink_to(outside)
        with pytest.raises(InputError, match="outside the brand folder"):
            read_documents(k, tmp_path)
        (k / "link.odt").unlink()
        # ... and a failure inside the loader names the file.
        (k / "notes.odt").write_bytes(office_docs.many_members(2))
        with pytest.raises(InputError, match=r"notes\.odt: unreadable by the registered loader \(KeyError"):
            read_documents(k, tmp_path)
    finally:
        unregister_loader(".docx")
        unregister_loader(".odt")
    assert ".odt" not in supported_suffixes()


def test_register_loader_checks_the_suffix() -> None:
    from knowledge.documents import register_loader

    for bad in ("docx", ".DOCX", ".", "./x"):
        with pytest.raises(InputError, match="expected a lower-case file suffix"):
            register_loader(bad, lambda path: None)  # type: ignore[arg-type, return-value]
