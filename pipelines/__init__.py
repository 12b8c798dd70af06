"""Pipelines: YAML-defined agent chains and the entry points that run them.

``run_campaign(brand, *, pipeline="default", channels=None, backend=None) -> Campaign`` is the Python API;
``pipelines.cli`` is the ``brandforge`` command. Dependencies point one way:
``pipelines -> agents -> (prompts, knowledge)``; nothing imports ``pipelines``.
"""

from agents.state import Campaign
from pipelines.render import campaign_to_markdown
from pipelines.runner import run_campaign
from pipelines.spec import Pipeline, PipelineSpec, load_pipeline

__all__ = ["Campaign", "Pipeline", "PipelineSpec", "campaign_to_markdown", "load_pipeline", "run_campaign"]
