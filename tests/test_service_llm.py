"""The service on the real embedded model (llama.cpp, Qwen 1.5B): ``brandforge serve`` loads it once, a
campaign runs as a job through ``brandforge campaign --server``, ``/v1/check`` runs the semantic layer,
and ``/metrics`` counts the model's calls and tokens as the campaign's own stats do."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.test_service_restart import BIN, new_key, serve, write_config

pytestmark = [pytest.mark.llm, pytest.mark.server, pytest.mark.slow]


def test_campaign_on_the_embedded_model_through_the_service(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'service.db'}"
    config = write_config(tmp_path, database, backend={}, warm_up=True)
    env = {**os.environ, "BRANDFORGE_SERVICE_KEY": new_key(database)}
    out = tmp_path / "campaign.json"
    log = tmp_path / "server.log"
    with serve(config, log) as (_, base):
        ready = httpx.get(f"{base}/readyz").json()
        assert (
            "qwen" in ready["model"].lower() and ready["workers"] == 1
        )  # one in-process model: one job at a time
        run = subprocess.run(
            [
                str(BIN),
                "campaign",
                "wanderly",
                "--server",
                base,
                "--channels",
                "cs_reply",  # one field: a search ad's five made this test 4 minutes of CI's 60
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=1200,
        )
        assert run.returncode in (0, 1), run.stderr[-3000:] + log.read_text()[-3000:]
        campaign = json.loads(out.read_text())
        (piece,) = campaign["pieces"]
        assert piece["channel"] == "cs_reply" and campaign["model"] == ready["model"]
        if piece["compliance"]["verdict"] != "blocked":
            assert piece["fields"] and all(text.strip() for text in piece["fields"].values())
        else:  # a blocked piece says why
            assert any(f["severity"] == "block" for f in piece["compliance"]["findings"])
        headers = {"Authorization": f"Bearer {env['BRANDFORGE_SERVICE_KEY']}"}
        check = httpx.post(
            f"{base}/v1/check", json={"text": "喝了三个月，我爸的血糖稳多了", "locale": "zh"}, headers=headers
        )
        assert check.status_code == 200 and check.json()["verdict"] == "block"  # a paraphrased health claim
        metrics = {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in httpx.get(f"{base}/metrics").text.splitlines()
            if line and not line.startswith("#")
        }
        stats = campaign["stats"]
        assert metrics["brandforge_model_calls_total"] == stats["llm_calls"]
        assert metrics["brandforge_prompt_tokens_total"] == stats["prompt_tokens"]
        assert metrics["brandforge_completion_tokens_total"] == stats["completion_tokens"]
        assert metrics["brandforge_model_seconds_total"] > 0
