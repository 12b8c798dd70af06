"""The ``brandforge`` command line.

Commands:
  campaign BRAND_DIR [--out FILE] [--format json|md] [--pipeline P] [--channels a,b] [--instruction TEXT]
                     [--insights RUN_DIR/insights.json] [--backend K] [--model M] [--base-url URL]
                     [--server URL]
  index BRAND_DIR [--rebuild] [--embedder NAME]
  check [FILE | -] [--locale L] [--industry I] [--brand BRAND_DIR] [--format json|text] [--lines]
  eval [FILES...] [--pipeline P] [--backend K] [--no-cache] [--save-baseline F] [--baseline F]
       [--junit F] [--markdown F] [--case ID]
  batch JOBS.jsonl|JOBS.csv --out RUN_DIR [--pipeline P] [--backend K] [--concurrency N]
       [--executor local|ray] [--ray-address ADDR] [--max-items N] [--timeout-per-item S]
       [--max-tokens-per-item N] [--recompute-stale]
  monitor MENTIONS.jsonl|.csv --brand BRAND_DIR --out RUN_DIR [--no-model] [--timezone TZ]
          [--columns field=Header,...] [--format auto|jsonl|csv] [--lang en|zh] [--backend K] [--model M]
  monitor-batch JOBS.jsonl --out RUN_DIR [--no-model] [--backend K] [--model M]
  schema brand|pipeline|channel|insights
  report CAMPAIGN.json --html OUT.html [--lang en|zh] [--brand BRAND_DIR]
  serve [--config FILE] [--host H] [--port P] [--database URL] [--brands DIR] [--workers N] [--backend K]
  keys create --name N --scopes a,b | list | revoke KEY_ID  [--database URL]
  users create NAME --role marketer|legal|admin | list | disable NAME  [--database URL]
        (the password comes from $BRANDFORGE_PASSWORD, else one is made and printed once)
  prompts list | show ID@V | diff ID@V1 ID@V2

Options for every command: --version, -v/--verbose (repeatable: info, then debug), --log-level LEVEL.

Exit codes (:mod:`pipelines.exits`): 0 done; 1 done, but compliance blocked some piece (``check``:
something blocks; ``eval``: a case failed); 2 bad input or configuration (the message names file, field,
expectation), or a backend that cannot be reached; 3 internal error (a bug: one line, the traceback at
``--log-level debug``); 4 incomplete (the backend failed mid-run, a step gave no valid output or a
channel got no piece; what was finished is still written); 130 interrupted. Progress and log lines
go to stderr, results to ``--out`` or stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.state import Campaign
    from service.store import Store

from pipelines.exits import ExitCode, batch_exit_code, campaign_exit_code, campaign_incomplete, eval_exit_code

log = logging.getLogger("pipelines.cli")  # not __name__: that is "__main__" under `python -m`

EXIT_HELP = """exit codes:
  0    done
  1    done, but compliance blocked some piece (check: something blocks; eval: a case failed)
  2    bad input or configuration (the message names the file and field), or an unreachable backend
  3    internal error: a bug (rerun with --log-level debug for the traceback)
  4    incomplete: the backend failed mid-run, a step or channel got no valid output; partial results
       are still written
  130  interrupted
"""


def _check_writable(out: str | None, flag: str = "--out") -> None:
    """Fail before any work when ``out`` cannot be written (a missing or read-only folder)."""
    from core.errors import InputError

    if out is None or out == "-":
        return
    path = Path(out)
    folder = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if path.is_dir():
        raise InputError("is a folder; expected a file path", source=path, field=flag)
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write here ({existing} is not a writable folder)", source=path, field=flag)


def _write(out: str | None, text: str, *, flag: str = "--out") -> None:
    """Write a result to ``out`` (stdout for None or '-'). If the file cannot be written after all
    (disk full, permissions changed during the run) the result is kept: saved to a file in the temp
    folder, or printed, and the InputError says where it went."""
    from core.errors import InputError
    from core.files import atomic_write

    if out is None or out == "-":
        sys.stdout.write(text)
        return
    try:
        atomic_write(Path(out), text.encode("utf-8"))
        return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    fd, fallback = tempfile.mkstemp(prefix="brandforge-", suffix=Path(out).suffix or ".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        kept = f"the result was saved to {fallback} instead"
    except OSError:
        sys.stdout.write(text)
        kept = "the result was printed to standard output instead"
    raise InputError(f"cannot write the file ({reason}); {kept}", source=out, field=flag)


def _backend_overrides(args: argparse.Namespace) -> dict[str, str]:
    """The ``--backend/--model/--base-url`` flags given, as backend config overrides."""
    given = {"kind": args.backend, "model": args.model, "base_url": args.base_url}
    return {key: value for key, value in given.items() if value}


def _cmd_campaign(args: argparse.Namespace) -> int:
    from pipelines.render import campaign_to_markdown
    from pipelines.runner import run_campaign, stderr_progress

    overrides = _backend_overrides(args)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
    _check_writable(args.out)
    progress = stderr_progress() if not args.quiet else None
    if args.server:
        campaign = _campaign_on_server(args, channels, overrides, progress)
    else:
        campaign = run_campaign(
            args.brand,
            pipeline=args.pipeline,
            channels=channels,
            backend=overrides or None,
            progress=progress,
            instruction=args.instruction or "",
            insights=args.insights,
        )
    text = (
        campaign_to_markdown(campaign) if args.format == "md" else campaign.model_dump_json(indent=2) + "\n"
    )
    _write(args.out, text)
    blocked = [p.channel for p in campaign.blocked]
    s = campaign.stats
    print(
        f"done: {len(campaign.pieces)} pieces "
        f"({len(blocked)} blocked{': ' + ', '.join(blocked) if blocked else ''})"
        f", {s.llm_calls} model calls, {s.completion_tokens} tokens generated, {s.seconds:.1f} s"
        + (f" -> {args.out}" if args.out else ""),
        file=sys.stderr,
    )
    unfinished = campaign_incomplete(campaign)
    if unfinished:
        print(
            f"incomplete: {unfinished}; the finished pieces are written"
            + (f" to {args.out}" if args.out else ""),
            file=sys.stderr,
        )
    return campaign_exit_code(campaign)


def _campaign_on_server(
    args: argparse.Namespace,
    channels: list[str] | None,
    overrides: dict[str, str],
    progress: Callable[[str], None] | None,
) -> Campaign:
    """The campaign run by a BrandForge service (``--server``): BRAND is a registered brand's name."""
    from agents.state import Campaign
    from core.errors import InputError, ServiceError
    from service.client import BrandForgeClient, ServiceCallError

    if overrides:
        raise InputError(
            "--backend, --model and --base-url are the server's settings; drop them with --server"
        )
    if args.pipeline != "default":
        raise InputError("--pipeline with --server is not supported yet; the server runs its own pipeline")
    if args.insights:
        raise InputError(
            "--insights with --server is not supported yet; run the campaign locally", field="--insights"
        )
    api_key = os.environ.get("BRANDFORGE_SERVICE_KEY", "")
    if not api_key:
        raise InputError("set BRANDFORGE_SERVICE_KEY to an API key of the server (brandforge keys create)")
    with BrandForgeClient(args.server, api_key) as client:
        try:
            data = client.run_campaign(
                args.brand, channels=channels, progress=progress, instruction=args.instruction or ""
            )
        except ServiceCallError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise ServiceError(str(exc)) from None
            if exc.status == 409:  # the job ran and did not finish: the server keeps it for a retry
                raise ServiceError(f"the job ended {exc.code}: {exc.message}") from None
            raise InputError(exc.message, source=args.server, field=exc.field) from None
    return Campaign.model_validate(data)


def _cmd_report(args: argparse.Namespace) -> int:
    from agents.channels import load_channels
    from pipelines.report import campaign_html, load_campaign

    _check_writable(args.html, flag="--html")
    campaign = load_campaign(args.campaign)
    channels = None
    if args.brand:
        from knowledge.brand import load_brand

        extra = Path(args.brand) / "channels"
        load_brand(args.brand)  # a clear error for a folder that is not a brand's
        channels = load_channels(extra) if extra.is_dir() else load_channels()
    _write(args.html, campaign_html(campaign, lang=args.lang, channels=channels), flag="--html")
    if args.html != "-":
        print(f"report: {len(campaign.pieces)} pieces ({campaign.status}) -> {args.html}", file=sys.stderr)
    return ExitCode.OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import JsonLogFormatter, create_app
    from service.config import load_service_config

    overrides = {
        "host": args.host,
        "port": args.port,
        "database": args.database or os.environ.get("BRANDFORGE_DATABASE"),
        "brands_dir": args.brands,
        "workers": args.workers,
    }
    backend = _backend_overrides(args)
    config = load_service_config(Path(args.config) if args.config else None, overrides)
    if backend:
        config = config.model_copy(update={"backend": {**config.backend, **backend}})
    handler = logging.StreamHandler(sys.stderr)
    if config.log_json:
        handler.setFormatter(JsonLogFormatter())
    for name in ("service", "pipelines", "agents", "backends", "knowledge", "policy", "core"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO if name == "service" else logging.WARNING)
        logger.propagate = False
    app = create_app(config)
    print(f"serving on http://{config.host}:{config.port} (database {config.database.split('://')[0]}, "
          f"brands {config.brands_dir})", file=sys.stderr)  # fmt: skip
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(config.shutdown_grace_s) + 10,
    )
    return ExitCode.OK


def _service_store(args: argparse.Namespace) -> Store:
    """The service's database, as ``--database``, ``$BRANDFORGE_DATABASE`` or the ``--config`` file say."""
    from service.config import load_service_config
    from service.store import Store

    database = args.database or os.environ.get("BRANDFORGE_DATABASE")
    config = load_service_config(Path(args.config) if args.config else None, {"database": database})
    return Store(config.database)


def _cmd_users(args: argparse.Namespace) -> int:
    import getpass
    import secrets

    from core.errors import InputError
    from service.users import Users

    store = _service_store(args)
    people = Users(store)
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.action == "create":
            if not args.name or not args.role:
                raise InputError("users create needs a NAME and --role (marketer, legal or admin)")
            given = os.environ.get("BRANDFORGE_PASSWORD", "")
            password = given or secrets.token_urlsafe(15)
            user = people.create(args.name, args.role, password)
            store.audit(actor, "user.create", f"user:{user.name}", {"role": user.role})
            if not given:
                print(password)
            print(
                f"user {user.name} ({user.role})"
                + ("" if given else ": the password above is shown only once"),
                file=sys.stderr,
            )
        elif args.action == "list":
            for u in people.list():
                print(f"{u.name:24}  {u.role:8}  {'disabled' if u.disabled_at else 'active'}")
        else:
            if not args.name:
                raise InputError("users disable needs the user's NAME")
            if not people.disable(args.name):
                raise InputError(f"no active user {args.name!r}", field="name")
            store.audit(actor, "user.disable", f"user:{args.name}")
            print(f"disabled {args.name}; their sessions ended", file=sys.stderr)
    finally:
        store.close()
    return ExitCode.OK


def _cmd_keys(args: argparse.Namespace) -> int:
    import getpass

    from core.errors import InputError
    from service.auth import check_scopes, create_key

    store = _service_store(args)
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.action == "create":
            if not args.name or not args.scopes:
                raise InputError("keys create needs --name and --scopes (e.g. --scopes campaign:run,check)")
            try:
                scopes = check_scopes([s.strip() for s in args.scopes.split(",") if s.strip()])
                made = create_key(
                    store,
                    args.name,
                    scopes,
                    rate_per_minute=args.rate_per_minute,
                    max_active_jobs=args.max_active_jobs,
                )
            except ValueError as exc:
                raise InputError(str(exc), field="--scopes" if "scope" in str(exc) else None) from None
            store.audit(actor, "key.create", f"key:{made.record.id}", {"name": args.name, "scopes": scopes})
            print(made.token)
            print(
                f"key {made.record.id} ({', '.join(scopes)}): the token above is shown only once",
                file=sys.stderr,
            )
        elif args.action == "list":
            for k in store.list_keys():
                state = "revoked" if k.revoked_at else "live"
                print(
                    f"{k.id}  {state:7}  {','.join(sorted(k.scopes)):40}  {k.rate_per_minute}/min  {k.name}"
                )
        else:
            if not args.key_id:
                raise InputError("keys revoke needs the key id (brandforge keys list)")
            if not store.revoke_key(args.key_id):
                raise InputError(f"no live key {args.key_id!r}", field="key_id")
            store.audit(actor, "key.revoke", f"key:{args.key_id}")
            print(f"revoked {args.key_id}", file=sys.stderr)
    finally:
        store.close()
    return ExitCode.OK


def _cmd_index(args: argparse.Namespace) -> int:
    from knowledge.brand import load_brand
    from knowledge.embedders import get_embedder
    from knowledge.index import build_index, default_index_dir

    brand = load_brand(args.brand)
    from pipelines.runner import stderr_progress

    index, update = build_index(
        brand,
        get_embedder(args.embedder),
        kind=args.faiss_index,
        rebuild=args.rebuild,
        progress=stderr_progress(),
    )
    print(
        json.dumps(
            {
                "index": str(default_index_dir(brand)),
                "passages": len(index),
                "faiss_index": index.kind,
                "added": update.added,
                "changed": update.changed,
                "removed": update.removed,
                "unchanged": len(update.unchanged),
                "skipped": update.skipped,
                "rebuilt": update.rebuilt,
                "embedded": update.passages_embedded,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return ExitCode.OK


# What `check` reads at most: well above any piece of copy, below what would make a check slow.
MAX_INPUT_BYTES = 8 * 1024 * 1024


def _read_input(path: str) -> str:
    """The text to check, from a file or standard input, with the same rules for both: a regular file,
    at most :data:`MAX_INPUT_BYTES`, UTF-8 text without NUL bytes."""
    from core.errors import InputError

    source: str | Path = "standard input" if path == "-" else Path(path)
    if path == "-":
        buffer = getattr(sys.stdin, "buffer", None)  # absent when stdin was replaced by a text stream
        if buffer is not None:
            raw = buffer.read(MAX_INPUT_BYTES + 1)
        else:
            raw = sys.stdin.read(MAX_INPUT_BYTES + 1).encode("utf-8", "surrogateescape")
    else:
        from core.files import read_regular_file

        raw = read_regular_file(Path(path), MAX_INPUT_BYTES, what="text file")
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; split it", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", source=source) from None
    if "\x00" in text:
        raise InputError("binary data (NUL bytes); expected UTF-8 text", source=source)
    return text


def _cmd_check(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from pipelines.check import check_report, open_checker

    overrides = _backend_overrides(args)
    if overrides and not args.judge:
        raise InputError("--backend, --model and --base-url choose the judge's model; add --judge")
    if args.locale is None and not args.brand:
        raise InputError("--locale is required without --brand (e.g. --locale zh or --locale en)")
    brand = index = None
    if args.brand:
        from knowledge.brand import load_brand
        from knowledge.embedders import get_embedder
        from knowledge.index import build_index
        from pipelines.runner import stderr_progress

        brand = load_brand(args.brand)
        index, _ = build_index(brand, get_embedder(args.embedder), progress=stderr_progress())
    judge = None
    if args.judge:  # the backend a campaign would use (default pipeline, env, flags); it fails here if bad
        if args.rules_only:
            raise InputError("--judge rules on what the semantic layer is unsure of: drop --rules-only")
        from agents.judge import ModelJudge
        from backends import get_backend
        from pipelines.spec import load_pipeline

        config = load_pipeline("default", backend_overrides=overrides).spec.backend
        backend = get_backend(config)
        backend.warm_up()
        judge = ModelJudge(backend, config)
    checker, policy = open_checker(
        locale=args.locale,
        industry=args.industry,
        brand=brand,
        index=index,
        rules_only=args.rules_only,
        judge=judge,
    )
    text = _read_input(args.file)
    report = check_report(checker, policy, text, lines=args.lines)
    results = report["pieces"] if args.lines else [report]
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_check_text_report(results, report["verdict"], policy.packs))
    return ExitCode.BLOCKED if report["verdict"] == "block" else ExitCode.OK


def _check_text_report(results: list[dict], overall: str, packs: list[str]) -> str:  # type: ignore[type-arg]
    lines = []
    for result in results:
        where = f"line {result['line']}: " if "line" in result else ""
        for f in result["findings"]:
            span = f"{f['span'][0]}-{f['span'][1]}" if f.get("span") else "-"
            lines.append(f"{f['severity'].upper():5} {where}{span} [{f['rule_id']}] {f.get('matched', '')!r}")
            lines.append(f"      {f['explanation']}")
            if f.get("suggestion"):
                lines.append(f"      fix: {f['suggestion']}")
            if f.get("legal_reference"):
                lines.append(f"      ref: {f['legal_reference']}")
            for ref in f.get("evidence", []):
                mark = "supports" if ref["supports"] else "considered"
                lines.append(f"      {mark}: {ref['passage']} ({ref['score']:.2f})")
    n_block = sum(f["severity"] == "block" for r in results for f in r["findings"])
    n_warn = sum(f["severity"] == "warn" for r in results for f in r["findings"])
    lines.append(f"verdict: {overall} ({n_block} block, {n_warn} warn; packs: {', '.join(packs)})")
    return "\n".join(lines)


def _cmd_eval(args: argparse.Namespace) -> int:
    from pipelines.evals import load_suites, run_evals
    from pipelines.evals.report import apply_baseline, baseline_json, junit_xml, markdown, table

    paths = [Path(p) for p in args.files] or [Path("evals")]
    suites = load_suites(paths)
    wanted = set(args.case or [])
    known = {c.id for s in suites for c in s.cases}
    if wanted - known:
        from core.errors import InputError

        raise InputError(
            f"unknown case {sorted(wanted - known)[0]!r}; valid choices: {sorted(known)}", field="--case"
        )
    first = suites[0].path
    assert first is not None
    outputs = {"--junit": args.junit, "--markdown": args.markdown, "--save-baseline": args.save_baseline}
    for flag, value in outputs.items():
        _check_writable(value, flag)
    cache_dir = Path(args.cache_dir) if args.cache_dir else first.parent / "cache"
    overrides = _backend_overrides(args)
    report = run_evals(
        suites,
        pipeline=args.pipeline,
        backend_overrides=overrides,
        cache_dir=cache_dir,
        use_cache=not args.no_cache,
        only=(lambda case: case.id in wanted) if wanted else None,
        progress=None if args.quiet else lambda message: print(message, file=sys.stderr, flush=True),
        prune_cache=args.prune_cache,
    )
    if args.baseline:
        apply_baseline(report, Path(args.baseline))
    print(table(report, baseline=bool(args.baseline)))
    if args.junit:
        _write(args.junit, junit_xml(report), flag="--junit")
    if args.markdown:
        _write(args.markdown, markdown(report, baseline=bool(args.baseline)), flag="--markdown")
    if args.save_baseline:
        _write(args.save_baseline, baseline_json(report), flag="--save-baseline")
    return eval_exit_code(report)


def _cmd_batch(args: argparse.Namespace) -> int:
    from pipelines.batch import run_batch

    overrides = _backend_overrides(args)
    summary = run_batch(
        Path(args.jobs),
        Path(args.out),
        pipeline=args.pipeline,
        backend_overrides=overrides,
        concurrency=args.concurrency,
        executor=args.executor,
        ray_address=args.ray_address,
        max_items=args.max_items,
        timeout_per_item=args.timeout_per_item,
        max_tokens_per_item=args.max_tokens_per_item,
        recompute_stale=args.recompute_stale,
    )
    rate = f", {summary.items_per_hour:.0f} items/hour" if summary.items_per_hour else ""
    print(
        f"batch: {summary.succeeded} done, {summary.failed} failed, {summary.malformed} malformed, "
        f"{summary.already_done} already done, {summary.not_run} not run in {summary.seconds:.1f} s{rate} "
        f"-> {args.out}",
        file=sys.stderr,
    )
    return batch_exit_code(summary)


def _parse_columns(text: str | None) -> dict[str, str] | None:
    from core.errors import InputError

    if not text:
        return None
    columns: dict[str, str] = {}
    for part in text.split(","):
        name, sep, header = part.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise InputError(f"{part!r}: expected FIELD=Header, e.g. text=Review Body", field="--columns")
        columns[name.strip()] = header.strip()
    return columns


def _monitor_model(args: argparse.Namespace) -> Any:
    """The model for unsure mentions and topic labels (None with --no-model): the backend a campaign
    would use (default pipeline, BRANDFORGE_* variables, flags); a bad one fails here, before any work."""
    from core.errors import InputError
    from monitor.model import MonitorModel

    overrides = _backend_overrides(args)
    if overrides and args.no_model:
        raise InputError("--backend, --model and --base-url choose the monitoring model; drop --no-model")
    if args.no_model:
        return None
    from backends import get_backend
    from pipelines.spec import load_pipeline

    config = load_pipeline("default", backend_overrides=overrides).spec.backend
    backend = get_backend(config)
    backend.warm_up()
    return MonitorModel(backend, config)


def _cmd_monitor_batch(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from monitor.batch import read_jobs, run_monitor_batch
    from pipelines.runner import stderr_progress

    if not Path(args.jobs).is_file():
        raise InputError("jobs file not found; expected JSON Lines of monitoring jobs", source=args.jobs)
    read_jobs(Path(args.jobs))  # an unreadable file fails before the model loads
    model = _monitor_model(args)
    outcome = run_monitor_batch(
        args.jobs, args.out, model=model, progress=stderr_progress() if not args.quiet else None
    )
    print(
        f"done: {len(outcome.done)} jobs run, {len(outcome.skipped)} already done, {len(outcome.failed)} "
        f"failed, {outcome.bad_lines} bad lines; {outcome.seconds:.1f} s -> {args.out}",
        file=sys.stderr,
    )
    if outcome.failed:
        return ExitCode.INCOMPLETE  # the next run retries them
    return ExitCode.BAD_INPUT if outcome.bad_lines else ExitCode.OK


def _cmd_monitor(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from knowledge.brand import load_brand
    from monitor.run import run_monitor
    from pipelines.runner import stderr_progress

    columns = _parse_columns(args.columns)  # bad input fails before the model loads
    if not Path(args.mentions).is_file():
        raise InputError("mentions file not found; expected a JSONL or CSV file", source=args.mentions)
    load_brand(args.brand)
    model = _monitor_model(args)
    progress = stderr_progress() if not args.quiet else None
    run = run_monitor(
        args.mentions,
        args.brand,
        args.out,
        model=model,
        timezone=args.timezone,
        columns=columns,
        file_format=args.format,
        report_lang=args.lang,
        progress=progress,
    )
    i = run.insights
    print(
        f"done: {i.totals.mentions} mentions ({run.errors} bad lines), {len(i.topics)} topics, "
        f"{len(i.alerts)} alerts; sentiment {i.sentiment.positive} positive / "
        f"{i.sentiment.neutral} neutral / {i.sentiment.negative} negative; {run.seconds:.1f} s -> {run.out}",
        file=sys.stderr,
    )
    if run.errors:
        print(f"{run.errors} lines not read: {run.out / 'errors.jsonl'} says which and why", file=sys.stderr)
        return ExitCode.BAD_INPUT  # as batch does for malformed lines: the others are done
    return ExitCode.OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from agents.channels import ChannelSpec
    from knowledge.brand import brand_json_schema
    from pipelines.spec import pipeline_json_schema

    if args.what == "brand":
        print(brand_json_schema())
    elif args.what == "insights":
        from monitor.insights import insights_json_schema

        sys.stdout.write(insights_json_schema())
    elif args.what == "pipeline":
        print(json.dumps(pipeline_json_schema(), indent=2))
    else:
        print(json.dumps(ChannelSpec.model_json_schema(), indent=2))
    return ExitCode.OK


def _cmd_prompts(args: argparse.Namespace) -> int:
    import difflib

    from core.errors import InputError
    from prompts import default_registry

    registry = default_registry()
    if args.action == "list":
        if args.refs:
            raise InputError("prompts list takes no prompt reference")
        for ref in registry.refs():
            prompt = registry.get(ref)
            print(f"{ref:28} {prompt.hash}  {prompt.description}")
        return ExitCode.OK
    expected = 1 if args.action == "show" else 2
    if len(args.refs) != expected:
        usage = "prompts show ID@V" if expected == 1 else "prompts diff ID@V1 ID@V2"
        raise InputError(f"expected: brandforge {usage}")
    prompts = [registry.get(ref) for ref in args.refs]
    if args.action == "show":
        (prompt,) = prompts
        print(f"# {prompt.ref}  hash {prompt.hash}  ({prompt.path})")
        print(f"# {prompt.description}")
        print(f"# inputs: {', '.join(prompt.inputs)}")
        if prompt.thread:
            print("# thread: a turn in the campaign's conversation")
        if prompt.needs_context:
            print(f"# needs context: {' or '.join(prompt.needs_context)}")
        print(prompt.source.rstrip("\n"))
        return ExitCode.OK
    old, new = prompts
    diff = difflib.unified_diff(
        old.source.splitlines(keepends=True),
        new.source.splitlines(keepends=True),
        fromfile=f"{old.ref} ({old.hash})",
        tofile=f"{new.ref} ({new.hash})",
    )
    text = "".join(diff)
    if set(old.inputs) != set(new.inputs):
        text += f"inputs: {sorted(old.inputs)} -> {sorted(new.inputs)}\n"
    sys.stdout.write(text or f"{old.ref} and {new.ref} have the same template\n")
    return ExitCode.OK


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brandforge")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _backend_kinds() -> list[str]:
    from backends.registry import backend_kinds

    return list(backend_kinds())


def _add_backend_options(p: argparse.ArgumentParser, kinds: list[str]) -> None:
    p.add_argument("--backend", choices=kinds, help="override the pipeline's backend")
    p.add_argument(
        "--model",
        help="GGUF path (llamacpp), served model (openai), HF id (vllm), provider:model (langchain)",
    )
    p.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")


def _logging_options() -> argparse.ArgumentParser:
    """-v and --log-level, accepted before or after the subcommand. SUPPRESS: a subcommand that is not
    given them leaves what the main parser read."""
    from core.log import LEVELS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="more log lines on stderr: -v info, -vv debug",
    )
    common.add_argument(
        "--log-level",
        type=str.lower,
        choices=LEVELS,
        default=argparse.SUPPRESS,
        help="log level (default warning; wins over -v)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from knowledge.embedders import DEFAULT_EMBEDDER

    common = _logging_options()
    kinds = _backend_kinds()
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="brandforge",
        description="Turn a brand's positioning into channel-ready, reviewed, compliant marketing copy.",
        epilog=EXIT_HELP,
        formatter_class=formatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"brandforge {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, parents=[common], epilog=EXIT_HELP, formatter_class=formatter
        )

    p = add("campaign", "run a campaign for a brand folder")
    p.add_argument("brand", help="brand folder (holding brand.yaml and knowledge/)")
    p.add_argument("--out", "-o", help="output file (default: stdout)")
    p.add_argument("--format", choices=["json", "md"], default="json")
    p.add_argument("--pipeline", default="default", help="built-in pipeline name or a pipeline YAML path")
    p.add_argument("--channels", help="comma-separated channels (default: the brand's)")
    p.add_argument(
        "--instruction",
        help="the brand team's instruction for this campaign, for the strategist (at most 500 characters), "
        'e.g. "lead with the spring departures"',
    )
    p.add_argument(
        "--insights",
        help="brand monitoring's RUN_DIR/insights.json: the strategist cites what customers say, and the "
        "customer-service reply answers the current complaint",
    )
    _add_backend_options(p, kinds)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.add_argument(
        "--server",
        help="run it on a BrandForge service at this URL (BRAND is then a registered brand's name; the API "
        "key comes from BRANDFORGE_SERVICE_KEY)",
    )
    p.set_defaults(func=_cmd_campaign)

    p = add("report", "a campaign as one self-contained HTML page for review")
    p.add_argument("campaign", help="a campaign JSON file (brandforge campaign --format json)")
    p.add_argument("--html", required=True, help="the HTML file to write (- for stdout)")
    p.add_argument("--lang", choices=["en", "zh"], help="the page's language (default: the brand's locale)")
    p.add_argument("--brand", help="the brand folder, for the limits of channels it defines itself")
    p.set_defaults(func=_cmd_report)

    p = add("serve", "run the HTTP service (campaign jobs, check, brands, metrics)")
    p.add_argument("--config", help="service YAML (see docs/service.md); flags override it")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument(
        "--database",
        help="sqlite:///FILE or postgresql+psycopg://... (default: $BRANDFORGE_DATABASE, else the config's, "
        "else sqlite:///brandforge-service.db)",
    )
    p.add_argument("--brands", help="folder of registered brands, one sub-folder each (default brands/)")
    p.add_argument(
        "--workers", type=_positive_int, help="campaign jobs at once (default: sized to the backend)"
    )
    _add_backend_options(p, kinds)
    p.set_defaults(func=_cmd_serve)

    p = add("keys", "create, list or revoke the service's API keys")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("key_id", nargs="?", help="revoke: the key id")
    p.add_argument("--name", help="create: who or what the key is for")
    p.add_argument(
        "--scopes", help="create: comma-separated: campaign:run, check, brands:write, review, admin"
    )
    p.add_argument("--rate-per-minute", type=_positive_int, default=120, help="create: requests per minute")
    p.add_argument(
        "--max-active-jobs", type=_positive_int, default=4, help="create: queued + running jobs at once"
    )
    p.add_argument("--config", help="service YAML (its database)")
    p.add_argument("--database", help="database URL (default: $BRANDFORGE_DATABASE, else the service's)")
    p.set_defaults(func=_cmd_keys)

    p = add("users", "create, list or disable the review studio's users")
    p.add_argument("action", choices=["create", "list", "disable"])
    p.add_argument("name", nargs="?", help="create/disable: the user name")
    p.add_argument(
        "--role",
        choices=["marketer", "legal", "admin"],
        help="create: marketer (edit, approve), legal (approves only without compliance findings), admin",
    )
    p.add_argument("--config", help="service YAML (its database)")
    p.add_argument("--database", help="database URL (default: $BRANDFORGE_DATABASE, else the service's)")
    p.set_defaults(func=_cmd_users)

    p = add("index", "build or update a brand's knowledge index")
    p.add_argument("brand")
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help="use-multilingual | minilm | sentence-transformers:<model>",
    )
    p.add_argument(
        "--faiss-index",
        choices=["flat", "hnsw"],
        default="flat",
        help="flat: exact (default); hnsw: approximate, for very large knowledge folders",
    )
    p.set_defaults(func=_cmd_index)

    p = add("check", "check any text against the compliance rules (and a brand's evidence)")
    p.add_argument("file", nargs="?", default="-", help="text file, or - for standard input (default)")
    p.add_argument("--locale", help="en, zh, zh-CN... (default: the brand's)")
    p.add_argument("--industry", help="industry rule pack: cosmetics, health_food, finance, education...")
    p.add_argument(
        "--brand", help="brand folder: its terms, allowed hosts/contacts, and documents as evidence"
    )
    p.add_argument("--format", choices=["json", "text"], default="json")
    p.add_argument("--lines", action="store_true", help="check each non-empty line as a separate piece")
    p.add_argument("--embedder", default=DEFAULT_EMBEDDER, help="embedder for the brand index (with --brand)")
    p.add_argument(
        "--judge",
        action="store_true",
        help="let a model rule on the sentences the rules and the classifier are unsure of (the default "
        "pipeline's backend: the embedded model unless --backend/--model/--base-url or BRANDFORGE_* say)",
    )
    p.add_argument(
        "--rules-only",
        action="store_true",
        help="skip the semantic classifiers: rule packs, detectors and claims only (a figure no document "
        "states then always blocks)",
    )
    _add_backend_options(p, kinds)
    p.set_defaults(func=_cmd_check)

    p = add("eval", "run prompt-regression eval suites (YAML cases)")
    p.add_argument("files", nargs="*", help="suite files or folders (default: evals/)")
    p.add_argument(
        "--pipeline", help="built-in pipeline name or YAML path (default: the suite's, else default)"
    )
    _add_backend_options(p, kinds)
    p.add_argument(
        "--no-cache", action="store_true", help="ignore cached answers (new answers are still stored)"
    )
    p.add_argument("--cache-dir", help="response cache folder (default: cache/ beside the first suite)")
    p.add_argument("--baseline", help="compare pass rates with this baseline JSON; a drop fails the run")
    p.add_argument("--save-baseline", help="write this run's pass rates as a baseline JSON")
    p.add_argument("--junit", help="write JUnit XML here")
    p.add_argument("--markdown", help="write a markdown report here")
    p.add_argument("--case", action="append", help="run only this case id (repeatable)")
    p.add_argument(
        "--prune-cache", action="store_true", help="after a full run, delete cache entries no case used"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cmd_eval)

    p = add("batch", "run many campaigns from a JSONL/CSV file, resumable")
    p.add_argument("jobs", help='JSONL ({"id": ..., "brand": DIR or {...}, "channels": [...]}) or CSV')
    p.add_argument("--out", required=True, help="run folder: results.jsonl, errors.jsonl, summary.json, ...")
    p.add_argument("--pipeline", default="default", help="built-in pipeline name or a pipeline YAML path")
    _add_backend_options(p, kinds)
    p.add_argument("--concurrency", type=_positive_int, default=1, help="items in flight (default 1)")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--ray-address", help="Ray cluster address (default: start or join a local Ray)")
    p.add_argument("--max-items", type=_positive_int, help="run at most this many items this time")
    p.add_argument(
        "--timeout-per-item", type=float, help="seconds; an item past it stops before its next call"
    )
    p.add_argument("--max-tokens-per-item", type=_positive_int, help="prompt + generated tokens per item")
    p.add_argument(
        "--recompute-stale", action="store_true", help="archive and redo results of another pipeline/model"
    )
    p.set_defaults(func=_cmd_batch)

    p = add("monitor", "analyse mentions of a brand: sentiment, aspects, topics, share of voice, alerts")
    p.add_argument("mentions", help="mentions file: JSON Lines or CSV (docs/monitor.md lists the columns)")
    p.add_argument("--brand", required=True, help="brand folder (its name, rivals and aspects to look for)")
    p.add_argument(
        "--out", "-o", required=True, help="run folder for mentions.jsonl, insights.json, report.html"
    )
    p.add_argument("--format", choices=["auto", "jsonl", "csv"], default="auto")
    p.add_argument("--columns", help="map fields to an export's headers: text=Review Body,time=Posted At")
    p.add_argument(
        "--timezone", help="IANA zone for times without an offset and for days (default: the brand's)"
    )
    p.add_argument(
        "--lang", choices=["en", "zh"], help="language of the report and topic labels (default: the brand's)"
    )
    p.add_argument(
        "--no-model",
        action="store_true",
        help="classifier only: no model for unsure mentions and topic labels (fast: bench/monitoring.py)",
    )
    _add_backend_options(p, kinds)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cmd_monitor)

    p = add("monitor-batch", "monitor many brands' mentions overnight (resumable): one job per JSONL line")
    p.add_argument("jobs", help='JSON Lines: {"id", "brand", "mentions"} per line (docs/monitor.md)')
    p.add_argument("--out", "-o", required=True, help="run folder: one sub-folder per job, summary.json")
    p.add_argument("--no-model", action="store_true", help="classifier only (see monitor --no-model)")
    _add_backend_options(p, kinds)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cmd_monitor_batch)

    p = add("schema", "print the JSON Schema of brand.yaml, pipeline YAML, channel YAML or insights.json")
    p.add_argument("what", choices=["brand", "pipeline", "channel", "insights"])
    p.set_defaults(func=_cmd_schema)

    p = add("prompts", "list, show or diff prompt versions")
    p.add_argument("action", choices=["list", "show", "diff"])
    p.add_argument("refs", nargs="*", metavar="ID@V", help="show: one prompt; diff: two")
    p.set_defaults(func=_cmd_prompts)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (:class:`~pipelines.exits.ExitCode`)."""
    from backends import BackendError
    from core.errors import InputError, ServiceError
    from core.log import configure_logging, resolve_level

    configure_logging()  # the default level until the flags are read: warnings while they are, too
    try:
        args = build_parser().parse_args(argv)
        configure_logging(resolve_level(getattr(args, "verbose", 0), getattr(args, "log_level", None)))
        log.debug("brandforge %s, Python %s: %s", _version(), sys.version.split()[0], args.command)
        return int(args.func(args))
    except InputError as exc:
        log.debug("bad input", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except BackendError as exc:
        # A BackendError that reaches here came before the work: a campaign keeps a mid-run one on the
        # Campaign (status "incomplete"), batch and eval record it per item or run.
        log.debug("backend error", exc_info=True)
        print(f"error: backend: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except ServiceError as exc:  # the same, for another service (an embeddings model building the index)
        log.debug("service error", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`brandforge prompts list | head -1`): not an error of ours. Point stdout
        # at /dev/null so the interpreter's final flush does not fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # what a shell reports for SIGPIPE
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        print(_internal_error_line(exc, traceback_shown=log.isEnabledFor(logging.DEBUG)), file=sys.stderr)
        return ExitCode.INTERNAL


def _internal_error_line(exc: Exception, *, traceback_shown: bool) -> str:
    """One line, whatever the exception's message holds (several lines, a whole document)."""
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    message = message if len(message) <= 300 else message[:297] + "..."
    hint = "the traceback is above" if traceback_shown else "rerun with --log-level debug for the traceback"
    return f"internal error: {type(exc).__name__}: {message}; this is a bug — {hint}"


if __name__ == "__main__":
    sys.exit(main())
