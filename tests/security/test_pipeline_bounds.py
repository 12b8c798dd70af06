"""Every knob a pipeline YAML sets is bounded, and a bad one is a clear error at load.

Finding (issue 16, low): ``max_repairs: -5`` ended in a traceback, and ``max_repairs`` and similar knobs
had no upper bound (1,153 requests in 60 s against a bad server).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InputError
from pipelines import cli, load_pipeline
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

pytestmark = [pytest.mark.unit, pytest.mark.security]

PIPELINE = """\
name: p
backend: {kind: fake}
steps:
  - agent: retriever
  - agent: strategist
    params: {max_repairs: VALUE}
  - agent: copywriter
  - agent: reviewer
  - agent: compliance
"""


@pytest.mark.parametrize("value", ["-5", "1000", "2.5", "'many'"])
def test_out_of_range_max_repairs_is_refused_at_load(value: str, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.replace("VALUE", value), encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yaml: steps\[1\]\.params: invalid params:\n  max_repairs: "):
        load_pipeline(path)


def test_the_cli_says_so_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.replace("VALUE", "-5"), encoding="utf-8")
    assert cli.main(["campaign", str(brand), "--pipeline", str(path), "-q"]) == 2
    err = capsys.readouterr().err
    assert "max_repairs" in err and "greater than or equal to 0" in err and "Traceback" not in err


def test_max_repairs_in_range_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.replace("VALUE", "5"), encoding="utf-8")
    assert load_pipeline(path).spec.name == "p"
