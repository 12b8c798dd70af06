"""brand.yaml loading and validation: every error names file, field and expectation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError
from knowledge.brand import brand_json_schema, load_brand
from tests.conftest import MINI_BRAND, write_brand

pytestmark = pytest.mark.unit


def test_examples_load(examples: Path) -> None:
    for name in ("wanderly", "tidewater", "clearleaf"):
        brand = load_brand(examples / name)
        assert brand.root == (examples / name).resolve()
        assert brand.name and brand.positioning
    wanderly = load_brand(examples / "wanderly")
    assert wanderly.locale == "zh" and wanderly.positioning == "探索未知，发现美丽"


def test_missing_brand_yaml(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    with pytest.raises(InputError, match=r"brand\.yaml not found"):
        load_brand(tmp_path / "b")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="brand folder not found"):
        load_brand(tmp_path / "nope")


def test_invalid_field_names_file_and_field(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", MINI_BRAND.replace("locale: en", "locale: English!"))
    with pytest.raises(InputError) as err:
        load_brand(root)
    message = str(err.value)
    assert "brand.yaml" in message and "locale" in message and "language code" in message


def test_empty_positioning(tmp_path: Path) -> None:
    root = write_brand(
        tmp_path / "b",
        MINI_BRAND.replace(
            "positioning: Coffee roasted the day before it reaches you.", 'positioning: "   "'
        ),
    )
    with pytest.raises(InputError, match=r"positioning: String should have at least 1 character"):
        load_brand(root)


def test_unknown_field(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", MINI_BRAND + "slogan: hi\n")
    with pytest.raises(InputError, match=r"slogan: unknown field"):
        load_brand(root)


def test_python_tag_is_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = MINI_BRAND + f"audience: !!python/object/apply:os.system ['touch {marker}']\n"
    root = write_brand(tmp_path / "b", evil.replace("audience: Home brewers who care about freshness.\n", ""))
    with pytest.raises(InputError, match="unsupported YAML tag"):
        load_brand(root)
    assert not marker.exists()


def test_knowledge_dir_cannot_escape(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", MINI_BRAND + "knowledge_dir: ../../etc\n")
    with pytest.raises(InputError, match=r"knowledge_dir.*escapes"):
        load_brand(root)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", "name: [unclosed\n")
    with pytest.raises(InputError, match=r"invalid YAML at line \d+"):
        load_brand(root)


def test_not_a_mapping(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", "- just\n- a list\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_brand(root)


def test_json_schema_exported_and_current() -> None:
    schema = json.loads(brand_json_schema())
    assert schema["additionalProperties"] is False
    assert {"name", "positioning", "locale"} <= set(schema["required"])
    assert "root" not in schema["properties"]
    shipped = Path(__file__).parent.parent / "docs" / "brand.schema.json"
    assert json.loads(shipped.read_text()) == schema, (
        "regenerate: brandforge schema brand > docs/brand.schema.json"
    )
