"""Compliance policy: rule packs, evasion-robust matching, detectors, claim checking, the checker.

``agents.compliance`` (the pipeline step) and ``brandforge check`` (the standalone command) both go
through :class:`ComplianceChecker`; see each module's docstring for its contract.
"""

from policy.checker import ComplianceChecker, Verdict, verdict_of
from policy.claims import Claim, Evidence, IndexEvidence, PassageEvidence, extract_claims, link_claims
from policy.rules import Policy, Rule, RulePack, load_policy
from policy.text import fold, fold_str

__all__ = [
    "Claim",
    "ComplianceChecker",
    "Evidence",
    "IndexEvidence",
    "PassageEvidence",
    "Policy",
    "Rule",
    "RulePack",
    "Verdict",
    "extract_claims",
    "fold",
    "fold_str",
    "link_claims",
    "load_policy",
    "verdict_of",
]
