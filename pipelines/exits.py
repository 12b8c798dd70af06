"""Exit codes of the ``brandforge`` command, and how a result maps to one.

Contract, the same for every subcommand:

- ``0`` OK — done.
- ``1`` BLOCKED — done, but compliance blocked some piece (``check``: something blocks; ``eval``: a case
  failed or regressed against the baseline).
- ``2`` BAD_INPUT — bad input or configuration, found before the work (the message names the file, the
  field and what was expected), a backend that cannot be reached or loaded, or an output file that
  cannot be written; also lines of a ``batch``, ``monitor`` or ``monitor-batch`` input that could not be
  read (their ``errors.jsonl`` says which and why; the other lines are done).
- ``3`` INTERNAL — an unexpected exception: a bug. One line on stderr; the traceback is logged at debug.
- ``4`` INCOMPLETE — the run started but could not finish: the backend failed mid-run, a step the rest
  depends on produced no valid output, or some channel got no finished piece (a campaign's
  ``status == "incomplete"``). Whatever was finished is still written.
- ``130`` INTERRUPTED — Ctrl-C.

When several apply, the most serious wins: INTERRUPTED (a batch stopped by Ctrl-C), then INTERNAL, then
INCOMPLETE, then BAD_INPUT, then BLOCKED.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.state import Campaign
    from pipelines.batch import BatchSummary
    from pipelines.evals.runner import EvalReport


class ExitCode(IntEnum):
    OK = 0
    BLOCKED = 1
    BAD_INPUT = 2
    INTERNAL = 3
    INCOMPLETE = 4
    INTERRUPTED = 130


def campaign_incomplete(campaign: Campaign) -> str | None:
    """Why ``campaign`` could not finish (:attr:`~agents.state.Campaign.failure`), or None when it did."""
    failure = campaign.failure
    if failure is not None:
        why = {"backend": "the backend failed", "service": "a service failed"}.get(
            failure.reason, "no valid output"
        )
        return f"{why} during {failure.step}: {failure.message}"
    missing = [piece.channel for piece in campaign.undelivered]
    if missing:
        return (
            f"no finished piece for {', '.join(missing)} (the model gave no valid answer; see the findings)"
        )
    return None


def campaign_exit_code(campaign: Campaign) -> ExitCode:
    """INCOMPLETE, BLOCKED or OK, from :attr:`~agents.state.Campaign.status`."""
    return {"incomplete": ExitCode.INCOMPLETE, "blocked": ExitCode.BLOCKED, "ok": ExitCode.OK}[
        campaign.status
    ]


def eval_exit_code(report: EvalReport) -> ExitCode:
    """OK when every case passed; INCOMPLETE when a failing case had a run the backend could not finish
    (its score says nothing about the prompt); BLOCKED for any other failure or regression."""
    if report.ok:
        return ExitCode.OK
    failing = [result for result in report.results if not result.ok]
    if any(run.incomplete for result in failing for run in result.runs):
        return ExitCode.INCOMPLETE
    return ExitCode.BLOCKED


def batch_exit_code(summary: BatchSummary) -> ExitCode:
    """A batch's code: INTERRUPTED on Ctrl-C; INCOMPLETE when an item failed (errors.jsonl; rerunning
    retries it); BAD_INPUT when a jobs line could not be read (malformed); BLOCKED when a result on file
    has a blocked piece; else OK."""
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    if summary.internal:
        return ExitCode.INTERNAL
    if summary.failed:
        return ExitCode.INCOMPLETE
    if summary.malformed:
        return ExitCode.BAD_INPUT
    if any(counts.get("blocked", 0) for counts in summary.verdicts.values()):
        return ExitCode.BLOCKED
    return ExitCode.OK
