"""The agents of a campaign, registered by short name for pipeline YAML.

``AGENTS`` maps a name (``retriever``, ``strategist``, ``spotlight``, ``copywriter``, ``reviewer``,
``compliance``) to its class; :func:`agent_class` answers an unknown name with the valid choices. The
agent contract is in :mod:`agents.base`; every prompt role (what a prompt is given, what it answers) in
:mod:`agents.roles`. Helpers shared by agents live in their own modules (:mod:`agents.citations`,
:mod:`agents.threads`, :mod:`agents.drafts`, :mod:`agents.revision`, :mod:`agents.fanout`,
:mod:`agents.featured`); no agent module imports another.
Note: the OpenAI Agents SDK also installs a top-level ``agents`` package; the two cannot share one
environment.
"""

from __future__ import annotations

from agents.base import Agent, RunContext, StructuredOutputError
from agents.compliance import Compliance
from agents.copywriter import Copywriter
from agents.retriever import Retriever, Spotlight
from agents.reviewer import Reviewer
from agents.roles import ROLES, Role, get_role
from agents.strategist import Strategist
from core.errors import InputError

AGENTS: dict[str, type[Agent]] = {
    cls.name: cls for cls in (Retriever, Strategist, Spotlight, Copywriter, Reviewer, Compliance)
}


def agent_class(name: str, *, source: str | None = None, field: str | None = None) -> type[Agent]:
    """The agent registered as ``name``."""
    try:
        return AGENTS[name]
    except KeyError:
        raise InputError(
            f"unknown agent {name!r}; valid choices: {sorted(AGENTS)}", source=source, field=field
        ) from None


__all__ = [
    "AGENTS",
    "ROLES",
    "Agent",
    "Role",
    "RunContext",
    "StructuredOutputError",
    "agent_class",
    "get_role",
]
