"""A candidate prompt version for eval tests: the default pipeline's draft prompt, edited, as the next
version in a folder of its own, and a copy of the default pipeline that uses it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from prompts.registry import default_registry

ROOT = Path(__file__).resolve().parent.parent


def candidate_draft_pipeline(folder: Path, edit: Callable[[str], str]) -> Path:
    """Write the next ``copywriter.draft`` version (the default pipeline's template through ``edit``) under
    ``folder/candidate`` and a pipeline that uses it; returns the pipeline's path."""
    default = (ROOT / "pipelines/default.yaml").read_text(encoding="utf-8")
    match = re.search(r"copywriter\.draft@(\d+)", default)
    assert match, "the default pipeline names no copywriter.draft version"
    old = int(match[1])
    registry = default_registry()
    new = max(p.version for p in registry.versions("copywriter.draft")) + 1
    source = registry.get(match[0]).path.read_text(encoding="utf-8")
    head, template = source.split("template: |\n", 1)
    edited = edit(template)
    assert edited != template, "the edit changed nothing"
    prompts = folder / "candidate"
    prompts.mkdir()
    head = head.replace(f"version: {old}\n", f"version: {new}\n")
    candidate = prompts / f"copywriter.draft@{new}.yaml"
    candidate.write_text(f"{head}template: |\n{edited}", encoding="utf-8")
    pipeline = folder / "candidate.yaml"
    pipeline.write_text(
        default.replace(match[0], f"copywriter.draft@{new}").replace(
            "\ncontext_prompt:", "\nprompt_dirs: [candidate]\ncontext_prompt:"
        ),
        encoding="utf-8",
    )
    return pipeline
