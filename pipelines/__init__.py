"""Pipelines: YAML-defined agent chains and the entry points that run them.

``run_campaign(brand, *, pipeline="default", channels=None, backend=None) -> Campaign`` is the Python API
(a thin call into :class:`pipelines.session.CampaignSession`, which batch jobs and evals use too);
:class:`CampaignRunnable` is the same campaign as a LangChain ``Runnable``; ``pipelines.cli`` is the
``brandforge`` command; ``run_monitor`` (brand monitoring, :mod:`monitor.run`) is re-exported here.
Dependencies point one way: ``pipelines -> monitor -> agents -> (policy, backends, prompts, knowledge) ->
core``; nothing imports ``pipelines``.
"""

from agents.state import Campaign
from monitor.run import run_monitor
from pipelines.render import campaign_to_markdown
from pipelines.runnable import CampaignRunnable
from pipelines.runner import run_campaign
from pipelines.spec import Pipeline, PipelineSpec, load_pipeline

__all__ = [
    "Campaign",
    "CampaignRunnable",
    "Pipeline",
    "PipelineSpec",
    "campaign_to_markdown",
    "load_pipeline",
    "run_campaign",
    "run_monitor",
]
