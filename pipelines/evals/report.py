"""Eval reports: a terminal table, JUnit XML, markdown, and baselines to compare runs against.

Contract: a baseline is JSON ``{"cases": {case_id: {"pass_rate": r, "runs": n}}, ...}`` written by
:func:`save_baseline`; :func:`apply_baseline` sets each result's ``baseline`` so a case whose pass rate
fell below it counts as regressed (and fails the run). JUnit XML has one ``testcase`` per case (any CI
shows it); the markdown report has the same table plus each failed check.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from core.errors import InputError
from core.files import atomic_write
from pipelines.evals.runner import CaseResult, EvalReport


def _status(r: CaseResult) -> str:
    return r.status


def _delta(r: CaseResult) -> str:
    if r.baseline is None:
        return "new" if r.baseline is None else ""
    d = r.pass_rate - r.baseline
    return f"{d:+.2f}" if abs(d) > 1e-9 else "="


def _failures(r: CaseResult) -> list[str]:
    lines = []
    for n, run in enumerate(r.runs, start=1):
        if run.error:
            lines.append(f"run {n} (seed {run.seed}): {run.error}")
        for c in run.checks:
            if not c.passed:
                lines.append(f"run {n} (seed {run.seed}): {c.assertion} -> {c.detail}")
    return lines


def table(report: EvalReport, baseline: bool = False) -> str:
    rows = [("case", "runs", "passed", "rate", "need", "status") + (("vs baseline",) if baseline else ())]
    for r in report.results:
        row = (
            r.case.id,
            str(len(r.runs)),
            str(sum(run.passed for run in r.runs)),
            f"{r.pass_rate:.2f}",
            f"{r.case.pass_rate:.2f}",
            _status(r),
        )
        rows.append(row + ((_delta(r),) if baseline else ()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [r for r in report.results if not r.ok]
    for r in report.results:
        if r.status == "xfail":
            lines.append(f"\n{r.case.id} (xfail, known failure: {r.case.known_failure}):")
            lines += [f"  {line}" for line in _failures(r)]
    for r in failed:
        lines.append(f"\n{r.case.id} ({_status(r)}):")
        if r.status == "XPASS":  # a known failure that passes now: its note is out of date
            lines.append("  the known failure passes now: remove its known_failure note")
            continue
        lines += [f"  {line}" for line in _failures(r)] or [
            f"  pass rate {r.pass_rate:.2f} < baseline {r.baseline:.2f}"
            if r.baseline is not None
            else f"  pass rate {r.pass_rate:.2f} < {r.case.pass_rate:.2f}"
        ]
    lines.append(summary(report))
    return "\n".join(lines)


def summary(report: EvalReport) -> str:
    n = len(report.results)
    passed = sum(r.ok for r in report.results)
    regressed = sum(r.status == "REGRESSED" for r in report.results)
    xfail = sum(r.status == "xfail" for r in report.results)
    regressions = f", {regressed} regressed" if regressed else ""
    regressions += f" ({xfail} known failures still failing)" if xfail else ""
    cache = f"{report.model_calls} model calls, {report.cache_hits} answered from the cache"
    return (
        f"\n{passed}/{n} cases passed{regressions} in {report.seconds:.1f} s; {cache} "
        f"({report.backend}: {report.model})"
    )


def junit_xml(report: EvalReport) -> str:
    suite = ET.Element(
        "testsuite",
        name="brandforge-eval",
        tests=str(len(report.results)),
        failures=str(sum(not r.ok for r in report.results)),
        skipped=str(sum(r.status == "xfail" for r in report.results)),
        time=f"{report.seconds:.3f}",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    for r in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=Path(r.suite).stem, name=r.case.id, time=f"{r.seconds:.3f}"
        )
        if r.status == "xfail":
            skipped = ET.SubElement(case, "skipped", message=f"known failure: {r.case.known_failure}")
            skipped.text = "\n".join(_failures(r))
        elif not r.ok:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{_status(r)}: pass rate {r.pass_rate:.2f} (needs {r.case.pass_rate:.2f}"
                + (f", baseline {r.baseline:.2f})" if r.baseline is not None else ")"),
            )
            failure.text = "\n".join(_failures(r))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def markdown(report: EvalReport, baseline: bool = False) -> str:
    head = "| case | runs | passed | rate | need | status |" + (" vs baseline |" if baseline else "")
    lines = ["# BrandForge eval report", "", head, "|" + "---|" * (7 if baseline else 6)]
    for r in report.results:
        cells = [r.case.id, str(len(r.runs)), str(sum(x.passed for x in r.runs)), f"{r.pass_rate:.2f}"]
        cells += [f"{r.case.pass_rate:.2f}", _status(r)] + ([_delta(r)] if baseline else [])
        lines.append("| " + " | ".join(cells) + " |")
    for r in report.results:
        if not r.ok:
            lines += ["", f"## {r.case.id}: {_status(r)}", ""] + [f"- {line}" for line in _failures(r)]
    lines += ["", summary(report).strip(), ""]
    return "\n".join(lines)


def save_baseline(report: EvalReport, path: Path) -> None:
    atomic_write(path, baseline_json(report).encode("utf-8"))


def baseline_json(report: EvalReport) -> str:
    """This run's pass rates, as the baseline file holds them."""
    data = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": report.backend,
        "model": report.model,
        "cases": {
            r.case.id: {"pass_rate": round(r.pass_rate, 4), "runs": len(r.runs)} for r in report.results
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def apply_baseline(report: EvalReport, path: Path) -> None:
    if not path.is_file():
        raise InputError("baseline file not found (write one with --save-baseline)", source=path)
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
        rates = {case_id: float(entry["pass_rate"]) for case_id, entry in cases.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError(
            "not a baseline file (expected {'cases': {id: {'pass_rate': ...}}})", source=path
        ) from None
    for r in report.results:
        r.baseline = rates.get(r.case.id)
    ran = {r.case.id for r in report.results}
    report.missing_from_baseline = sorted(set(rates) - ran)
