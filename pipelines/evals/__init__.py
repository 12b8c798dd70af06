"""Prompt-regression evals: YAML cases, cached model calls, pass rates, baselines and reports.

``load_suites`` validates suite files, ``run_evals`` runs them (through :class:`CachedBackend`, so an
unchanged suite costs no model calls), and :mod:`pipelines.evals.report` renders the terminal table,
JUnit XML and markdown and compares against a saved baseline. ``brandforge eval`` wires them together;
``tests/test_eval_suite.py`` runs the shipped suite under pytest, one test per case.
"""

from pipelines.evals.cache import CachedBackend
from pipelines.evals.runner import CaseResult, EvalReport, run_evals
from pipelines.evals.spec import ASSERTION_TYPES, EvalCase, EvalSuite, load_suite, load_suites

__all__ = [
    "ASSERTION_TYPES",
    "CachedBackend",
    "CaseResult",
    "EvalCase",
    "EvalReport",
    "EvalSuite",
    "load_suite",
    "load_suites",
    "run_evals",
]
