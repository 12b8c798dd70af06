"""The review studio: web pages in the service's application where people sign in and approve, edit or
reject each delivered piece, seeing it as its channel shows it.

Contract:

- Pages under ``/studio`` (server-rendered HTML, no scripts): sign-in, the jobs (campaigns and batches)
  with their pieces' review states, a job's pieces (channel previews, lengths, sources, findings and each
  piece's decision history, from pipelines/report.py), the edit form, and the exports of approved copy.
- Signing in is by a studio user (service/users.py; ``brandforge users create``); the session is an
  HttpOnly, SameSite=Strict cookie, and every form carries the session's CSRF token. Pages answer in
  English or Chinese (the browser's Accept-Language, or ``?lang=en|zh``).
- Decisions follow service/review.py: an edit is checked again before it is saved, a piece with a
  blocking finding cannot be approved (legal: nor with any compliance finding), a rejection needs a
  reason, and each decision is an audit row with the text before and after.
- Bad input (a stale form, an unknown piece, a field the channel does not have, a text over the limits)
  is an HTML page saying what and why with status 4xx; the edit a reviewer typed is kept on the page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from agents.state import Campaign, Piece
from core.errors import InputError
from pipelines.report import TEMPLATES as REPORT_TEMPLATES
from pipelines.report import UI, Lang, Sources, piece_view, stylesheet
from service.auth import RateLimiter
from service.review import (
    MAX_REASON,
    ReviewRecord,
    Reviews,
    StaleReview,
    approval_blockers,
    approved_record,
    campaign_for,
    export_csv,
    export_jsonl,
    provenance,
    recheck,
)
from service.store import REVIEWED_KINDS, JobRecord, Store
from service.users import SESSION_SECONDS, Session, Users

log = logging.getLogger("service.studio")
COOKIE = "bf_studio"
SIGN_INS_PER_ADDRESS = 30  # attempts a minute from one client address
FAILED_SIGN_INS_PER_USER = 10  # wrong passwords a minute for one user name, from anywhere
STUDIO_KEY = "studio"  # the jobs the studio starts (a piece sent back) are this key's
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 256 * 1024
MAX_FIELD_CHARS = 20_000

STUDIO_UI: dict[Lang, dict[str, str]] = {
    "en": {
        "studio": "BrandForge Studio",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "user": "User name",
        "password": "Password",
        "bad_sign_in": "Wrong user name or password.",
        "slow_down": "Too many sign-in attempts. Try again in a minute.",
        "jobs": "Campaigns and batches",
        "no_jobs": "No finished jobs yet; run a campaign through the API or `brandforge campaign --server`.",
        "created": "Created",
        "brand": "Brand",
        "kind": "Kind",
        "job_state": "Job",
        "reviews": "Review",
        "open": "Open",
        "pending_review": "Pending review",
        "approved": "Approved",
        "rejected": "Rejected",
        "sent_back": "Sent back",
        "approve": "Approve",
        "reject": "Reject",
        "edit": "Edit",
        "reason": "Reason",
        "reject_reason": "Why is it rejected?",
        "cannot_approve": "Cannot be approved yet",
        "save_edit": "Check and save",
        "cancel": "Cancel",
        "edit_note": "The edit is checked again (compliance, limits, copy checks) before it can be approved.",
        "decisions": "Decisions",
        "no_decisions": "No decisions yet.",
        "export": "Export approved copy",
        "export_jsonl": "Approved-copy set (JSONL)",
        "export_csv": "Search ads for ad editors (CSV)",
        "all_brands": "all brands",
        "error": "That did not work",
        "back": "Back",
        "item": "Item",
        "role": "Role",
        "your_edit": "Your edit (not saved)",
        "new_campaign": "Start a campaign",
        "instruction": "Instruction for this campaign (optional)",
        "instruction_note": "For the strategist, e.g. “lead with the spring departures”; 500 characters.",
        "channels": "Channels",
        "start": "Start",
        "no_brands": "No registered brands yet: add one with PUT /v1/brands/NAME.",
        "progress": "Progress",
        "refreshing": "This page refreshes every 3 seconds; the pieces open for review when it is done.",
        "job_queued": "Queued",
        "job_running": "Running",
        "job_failed": "Failed",
        "job_cancelled": "Cancelled",
        "job_interrupted": "Interrupted",
        "job_done": "Done",
        "when": "When",
        "action": "Action",
        "send_back": "Send back",
        "send_back_note": "What should the copywriter change?",
        "revising": "Sent back: the copywriter is revising it with your note; it comes back checked again.",
    },
    "zh": {
        "studio": "BrandForge 审稿台",
        "sign_in": "登录",
        "sign_out": "退出",
        "user": "用户名",
        "password": "密码",
        "bad_sign_in": "用户名或密码错误。",
        "slow_down": "登录尝试过于频繁，请一分钟后再试。",
        "jobs": "营销活动与批量任务",
        "no_jobs": "还没有完成的任务。请通过 API 或 `brandforge campaign --server` 发起活动。",
        "created": "创建时间",
        "brand": "品牌",
        "kind": "类型",
        "job_state": "任务",
        "reviews": "审稿",
        "open": "打开",
        "pending_review": "待审",
        "approved": "已通过",
        "rejected": "已驳回",
        "sent_back": "已退回",
        "approve": "通过",
        "reject": "驳回",
        "edit": "修改",
        "reason": "理由",
        "reject_reason": "驳回理由",
        "cannot_approve": "暂不能通过",
        "save_edit": "检查并保存",
        "cancel": "取消",
        "edit_note": "修改后的内容会重新经过合规、长度和文案检查，通过检查后才能审批。",
        "decisions": "审批记录",
        "no_decisions": "还没有审批记录。",
        "export": "导出已通过的文案",
        "export_jsonl": "已通过文案集（JSONL）",
        "export_csv": "搜索广告导入表（CSV）",
        "all_brands": "全部品牌",
        "error": "操作未完成",
        "back": "返回",
        "item": "条目",
        "role": "角色",
        "your_edit": "你的修改（未保存）",
        "new_campaign": "发起营销活动",
        "instruction": "本次活动的要求（可选）",
        "instruction_note": "写给策略环节，例如“主推春季出发的线路”；最多 500 字。",
        "channels": "渠道",
        "start": "开始",
        "no_brands": "还没有注册的品牌：请用 PUT /v1/brands/NAME 添加。",
        "progress": "进度",
        "refreshing": "本页每 3 秒刷新一次；完成后各内容进入审稿。",
        "job_queued": "排队中",
        "job_running": "运行中",
        "job_failed": "失败",
        "job_cancelled": "已取消",
        "job_interrupted": "已中断",
        "job_done": "完成",
        "when": "时间",
        "action": "操作",
        "send_back": "退回修改",
        "send_back_note": "请写明需要文案修改什么",
        "revising": "已退回：文案正在按你的意见修改，改完会重新检查后回到这里。",
    },
}

# (checker, policy, index) for a registered brand: the service's cached check objects.
CheckerFor = Callable[[str], tuple[Any, Any, Any]]


class StudioError(Exception):
    """An answer to show as an error page: status and message (what and why)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _environment() -> Environment:
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(REPORT_TEMPLATES)]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page_lang(request: Request) -> Lang:
    chosen = request.query_params.get("lang") or request.cookies.get("bf_lang") or ""
    if chosen in ("en", "zh"):
        return chosen  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (the last value of a repeated name)."""
    return dict(await read_pairs(request))


async def read_pairs(request: Request) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body as its (name, value) pairs, in order."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise StudioError(415, "send the form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise StudioError(413, f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200
        )
    except (UnicodeDecodeError, ValueError):
        raise StudioError(400, "the form is not valid UTF-8 form data") from None
    return pairs


def install_studio(app: FastAPI, store: Store, registry: Any, workers: Any, checker_for: CheckerFor) -> None:
    """Add the studio's pages to ``app`` (the service's application)."""
    env = _environment()
    users, reviews = Users(store), Reviews(store)
    css = stylesheet()
    attempts = RateLimiter()  # sign-in attempts, per client address and per user name (password guessing)

    def render(request: Request, template: str, status: int = 200, **data: Any) -> HTMLResponse:
        lang = page_lang(request)
        ui = {**UI[lang], **STUDIO_UI[lang]}
        html = env.get_template(template).render(
            css=css, ui=ui, lang=lang, html_lang="zh-CN" if lang == "zh" else "en", **data
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        if request.query_params.get("lang") in ("en", "zh"):
            response.set_cookie("bf_lang", lang, samesite="strict", httponly=True, path="/studio")
        return response

    def error_page(request: Request, session: Session | None, exc: StudioError, **extra: Any) -> HTMLResponse:
        return render(
            request, "studio/error.html.j2", exc.status, session=session, message=exc.message, **extra
        )

    def current(request: Request) -> Session | None:
        return users.session(request.cookies.get(COOKIE, ""))

    def to_sign_in(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/studio/login?next={quote(request.url.path)}", status_code=303)

    def check_csrf(session: Session, form: dict[str, str]) -> None:
        if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
            raise StudioError(403, "the form is out of date or not from this studio; reload the page")

    def campaign_of(job: JobRecord, item: str) -> Campaign:
        try:
            return campaign_for(store, job, item)
        except LookupError as exc:
            raise StudioError(404, str(exc)) from None

    def channel_spec(brand_name: str, channel: str) -> Any:
        from pipelines.session import campaign_channels

        brand = registry.load(brand_name)
        return brand, campaign_channels(brand, [channel])[0]

    def piece_data(review: ReviewRecord, campaign: Campaign, lang: Lang, spec: Any = None) -> dict[str, Any]:
        original = campaign.pieces[review.position] if review.position < len(campaign.pieces) else None
        piece = Piece(
            channel=review.channel,
            fields=review.fields,
            citations=original.citations if original else [],
            compliance={"verdict": review.verdict, "findings": review.findings},  # type: ignore[arg-type]
            revisions=original.revisions if original else [],
            drafted=original.drafted if original else {},
            inputs=original.inputs if original else {},
        )
        ui = UI[lang]
        view = piece_view(
            piece,
            review.position,
            spec=spec,
            sources=Sources(campaign.passages),
            brand_name=campaign.brand.name,
            ui=ui,
            delivered=original.fields if original else None,
        )
        view["id"] = f"r-{review.id}"
        return view

    def load_review(review_id: str) -> tuple[ReviewRecord, JobRecord]:
        review = reviews.get(review_id) if _an_id(review_id) else None
        job = store.get_job(review.job_id) if review else None
        if review is None or job is None:
            raise StudioError(404, "no such piece")
        return review, job

    # --- sign-in ---

    @app.get("/studio/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return render(request, "studio/login.html.j2", session=None, failed=False, next=_safe_next(request))

    @app.post("/studio/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        try:
            form = await read_form(request)
        except StudioError as exc:
            return error_page(request, None, exc)
        name = form.get("name", "")
        client = request.client.host if request.client else "-"
        user_key = f"user:{name.strip().casefold()}"
        wait = max(
            attempts.take(f"address:{client}", SIGN_INS_PER_ADDRESS),
            attempts.take(user_key, FAILED_SIGN_INS_PER_USER, spend=False),
        )
        if wait > 0:
            log.warning("studio sign-in throttled: %r from %s", name[:64], client)
            held = render(
                request,
                "studio/login.html.j2",
                429,
                session=None,
                failed="slow_down",
                next=_safe_next(request, form),
            )
            held.headers["Retry-After"] = str(max(1, round(wait)))
            return held
        signed = await run_in_threadpool(users.sign_in, name, form.get("password", ""))
        if signed is None:
            attempts.take(user_key, FAILED_SIGN_INS_PER_USER)
            return render(
                request,
                "studio/login.html.j2",
                401,
                session=None,
                failed="bad_sign_in",
                next=_safe_next(request, form),
            )
        token, session = signed
        response = RedirectResponse(_safe_next(request, form), status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/studio",
            max_age=SESSION_SECONDS,
        )
        log.info("studio sign-in: %s (%s)", session.user.name, session.user.role)
        return response

    @app.post("/studio/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = current(request)
        if session is not None:
            try:
                check_csrf(session, await read_form(request))
            except StudioError as exc:
                return error_page(request, session, exc)
            users.sign_out(request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/studio/login", status_code=303)
        response.delete_cookie(COOKIE, path="/studio")
        return response

    # --- pages ---

    @app.get("/studio", include_in_schema=False)
    def jobs_page(request: Request) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        jobs = [j for j in store.list_jobs(limit=200) if j.state == "done" and j.kind in REVIEWED_KINDS]
        counts = reviews.counts([j.id for j in jobs])
        rows = [
            {
                "id": j.id,
                "created": _when(j.created_at),
                "brand": j.brand,
                "kind": j.kind,
                "state": j.state,
                "counts": counts.get(j.id, {}),
            }
            for j in jobs
        ]
        brands = sorted({j.brand for j in jobs if j.kind == "campaign"})
        return render(request, "studio/jobs.html.j2", session=session, jobs=rows, brands=brands)

    @app.get("/studio/jobs/{job_id}", include_in_schema=False)
    def job_page(request: Request, job_id: str) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        try:
            return render(
                request, "studio/job.html.j2", session=session, **job_data(request, session, job_id)
            )
        except StudioError as exc:
            return error_page(request, session, exc)

    def job_data(request: Request, session: Session, job_id: str) -> dict[str, Any]:
        job = store.get_job(job_id) if _an_id(job_id) else None
        if job is None or job.state != "done" or job.kind not in REVIEWED_KINDS:
            raise StudioError(404, "no finished campaign or batch with that id")
        lang = page_lang(request)
        pieces = []
        campaigns: dict[str, Campaign] = {}
        for review in reviews.for_job(job.id):
            campaign = campaigns.get(review.item) or campaigns.setdefault(
                review.item, campaign_of(job, review.item)
            )
            try:
                spec = channel_spec(review.brand, review.channel)[1]
            except (InputError, LookupError):
                spec = None  # the brand or channel is gone: no limits to show
            view = piece_data(review, campaign, lang, spec)
            pieces.append(
                {
                    "review": {
                        "id": review.id,
                        "state": review.state,
                        "version": review.version,
                        "item": review.item,
                        "updated_by": review.updated_by,
                    },
                    "view": view,
                    "blockers": approval_blockers(session.user.role, review.findings),
                    "history": [
                        {
                            "at": _when(e["at"]),
                            "actor": e["actor"].removeprefix("user:"),
                            "role": e["detail"].get("role", ""),
                            "action": e["action"].removeprefix("review."),
                            "reason": e["detail"].get("reason") or "",
                            "before": e["detail"].get("before_sha256", "")[:12],
                            "after": e["detail"].get("after_sha256", "")[:12],
                        }
                        for e in reviews.history(review.id)
                    ],
                }
            )
        first = next(iter(campaigns.values()), None)
        return {
            "job": {
                "id": job.id,
                "brand": job.brand,
                "kind": job.kind,
                "title": first.brand.name if first else job.brand,
                "positioning": first.brand.positioning if first else "",
            },
            "pieces": pieces,
        }

    @app.get("/studio/reviews/{review_id}/edit", include_in_schema=False)
    def edit_page(request: Request, review_id: str) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        try:
            review, job = load_review(review_id)
            return render(
                request, "studio/edit.html.j2", session=session, **edit_data(review, job, review.fields)
            )
        except StudioError as exc:
            return error_page(request, session, exc)

    def edit_data(review: ReviewRecord, job: JobRecord, fields: dict[str, str]) -> dict[str, Any]:
        try:
            spec = channel_spec(review.brand, review.channel)[1]
            specs = {f.name: f for f in spec.fields}
        except (InputError, LookupError):
            specs = {}
        return {
            "review": {"id": review.id, "version": review.version, "channel": review.channel, "job": job.id},
            "fields": [
                {"name": name, "text": text, "limits": specs[name].limits_text if name in specs else ""}
                for name, text in fields.items()
            ],
        }

    @app.post("/studio/reviews/{review_id}/{action}", include_in_schema=False)
    async def decide(request: Request, review_id: str, action: str) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        form: dict[str, str] = {}
        try:
            form = await read_form(request)
            check_csrf(session, form)
            if action not in ("approve", "reject", "edit", "send_back"):
                raise StudioError(404, f"no action {action!r}; approve, reject, edit or send_back")
            review, job = load_review(review_id)
            if str(review.version) != form.get("version"):
                raise StaleReview("the piece changed since this page was loaded; reload it and decide again")
            await run_in_threadpool(apply, session, review, job, action, form)
        except StaleReview as exc:
            return error_page(request, session, StudioError(409, str(exc)))
        except StudioError as exc:
            if action == "edit" and exc.status == 422 and form:
                kept = {k.removeprefix("field:"): v for k, v in form.items() if k.startswith("field:")}
                review, job = load_review(review_id)
                return render(
                    request,
                    "studio/edit.html.j2",
                    422,
                    session=session,
                    error=exc.message,
                    **edit_data(review, job, kept),
                )
            return error_page(request, session, exc)
        return RedirectResponse(f"/studio/jobs/{job.id}#r-{review.id}", status_code=303)

    def apply(
        session: Session, review: ReviewRecord, job: JobRecord, action: str, form: dict[str, str]
    ) -> None:
        campaign = campaign_of(job, review.item)
        origin = provenance(campaign)
        who, role = f"user:{session.user.name}", session.user.role
        if review.state == "sent_back":
            raise StudioError(409, "the copywriter is revising it; wait for the revision, then decide")
        if action == "send_back":
            note = form.get("note", "").strip()
            if not note or len(note) > MAX_REASON:
                raise StudioError(422, f"say what to change (1 to {MAX_REASON} characters)")
            sent = reviews.apply(
                review, who, role, "send_back", state="sent_back", reason=note, provenance=origin
            )
            request = {"review": review.id, "note": note, "version": sent.version}
            store.create_job(
                key_id=STUDIO_KEY,
                kind="revise",
                brand=review.brand,
                request=request,
                request_hash=hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest(),
            )
            workers.wake()
            return
        if action == "approve":
            blockers = approval_blockers(session.user.role, review.findings)
            if blockers:
                raise StudioError(409, "it cannot be approved while these stand: " + "; ".join(blockers))
            if review.state == "approved":
                raise StudioError(409, "it is approved already")
            reviews.apply(review, who, role, "approve", state="approved", provenance=origin)
        elif action == "reject":
            reason = form.get("reason", "").strip()
            if not reason or len(reason) > MAX_REASON:
                raise StudioError(422, f"say why it is rejected (1 to {MAX_REASON} characters)")
            reviews.apply(review, who, role, "reject", state="rejected", reason=reason, provenance=origin)
        else:
            fields = {
                k.removeprefix("field:"): v.replace("\r\n", "\n")
                for k, v in form.items()
                if k.startswith("field:")
            }
            if not fields or any(len(v) > MAX_FIELD_CHARS for v in fields.values()):
                raise StudioError(422, f"send the piece's fields (at most {MAX_FIELD_CHARS} characters each)")
            if fields == review.fields:
                raise StudioError(422, "nothing changed; edit the text or go back")
            try:
                brand, spec = channel_spec(review.brand, review.channel)
                checker, _, index = checker_for(review.brand)
            except (InputError, LookupError) as exc:
                raise StudioError(409, f"the brand {review.brand!r} cannot be checked now: {exc}") from None
            try:
                findings, verdict = recheck(
                    checker, brand, spec, fields, campaign=campaign, position=review.position, index=index
                )
            except (ValueError, InputError) as exc:
                raise StudioError(422, str(exc)) from None
            reviews.apply(
                review,
                f"user:{session.user.name}",
                session.user.role,
                "edit",
                state="pending_review",
                fields=fields,
                findings=findings,
                verdict=verdict,
                reason=form.get("reason", "").strip()[:MAX_REASON] or None,
                provenance=origin,
            )

    # --- starting a campaign ---

    def brand_choices() -> list[dict[str, Any]]:
        out = []
        for name in registry.names():
            try:
                brand = registry.load(name)
            except InputError:
                continue  # a broken brand folder is the API's to report (GET /v1/brands)
            out.append({"name": name, "title": brand.name, "channels": list(brand.channels)})
        return out

    @app.get("/studio/new", include_in_schema=False)
    def new_page(request: Request) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        return render(request, "studio/new.html.j2", session=session, brands=brand_choices(), error=None)

    @app.post("/studio/new", include_in_schema=False)
    async def start(request: Request) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        try:
            pairs = await read_pairs(request)
            form = dict(pairs)
            check_csrf(session, form)
            job_id = await run_in_threadpool(
                start_campaign,
                session,
                form.get("brand", ""),
                [v for k, v in pairs if k == "channel"],
                form.get("instruction", ""),
            )
        except StudioError as exc:
            if exc.status == 422:
                return render(
                    request,
                    "studio/new.html.j2",
                    422,
                    session=session,
                    brands=brand_choices(),
                    error=exc.message,
                )
            return error_page(request, session, exc)
        return RedirectResponse(f"/studio/progress/{job_id}", status_code=303)

    def start_campaign(session: Session, brand: str, channels: list[str], instruction: str) -> str:
        from agents.state import campaign_instruction
        from pipelines.session import campaign_channels

        try:
            instruction = campaign_instruction(instruction)
        except InputError as exc:
            raise StudioError(422, str(exc).removeprefix("instruction: ")) from None
        if not brand or not registry.exists(brand):
            raise StudioError(422, "choose a registered brand")
        if not channels:
            raise StudioError(422, "choose at least one channel")
        try:
            loaded = registry.load(brand)
            campaign_channels(loaded, channels)
        except InputError as exc:
            raise StudioError(422, str(exc).split(": ", 2)[-1]) from None
        if not registry.documents(loaded):
            raise StudioError(422, f"the brand {brand!r} has no knowledge documents yet")
        request: dict[str, Any] = {"brand": brand, "channels": channels}
        if instruction:
            request["instruction"] = instruction
        job, _ = store.create_job(
            key_id=STUDIO_KEY,
            brand=brand,
            request=request,
            request_hash=hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest(),
        )
        store.audit(
            f"user:{session.user.name}",
            "campaign.create",
            f"job:{job.id}",
            {"brand": brand, "request": request},
        )
        workers.wake()
        return job.id

    @app.get("/studio/progress/{job_id}", include_in_schema=False)
    def progress_page(request: Request, job_id: str) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        job = store.get_job(job_id) if _an_id(job_id) else None
        if job is None or job.kind != "campaign":
            return error_page(request, session, StudioError(404, "no campaign job with that id"))
        if job.state == "done":
            return RedirectResponse(f"/studio/jobs/{job.id}", status_code=303)
        steps = [e.data.get("message", "") for e in store.events(job.id) if e.kind == "progress"][-12:]
        return render(
            request,
            "studio/progress.html.j2",
            session=session,
            job={"id": job.id, "brand": job.brand, "state": job.state, "message": job.message or ""},
            steps=steps,
            running=job.state in ("queued", "running"),
        )

    # --- exports ---

    @app.get("/studio/export/{name}", include_in_schema=False)
    def export(request: Request, name: str) -> Response:
        session = current(request)
        if session is None:
            return to_sign_in(request)
        brand = request.query_params.get("brand") or None
        approved = reviews.approved(brand)
        if name == "approved.jsonl":
            records = [approved_record(r, _approval(reviews.history(r.id))) for r in approved]
            body, media = export_jsonl(records), "application/jsonl; charset=utf-8"
        elif name == "search_ads.csv":
            body, media = "\ufeff" + export_csv(approved), "text/csv; charset=utf-8"  # BOM: Excel reads UTF-8
        else:
            return error_page(request, session, StudioError(404, "exports: approved.jsonl, search_ads.csv"))
        store.audit(
            f"user:{session.user.name}",
            "review.export",
            f"export:{name}",
            {"brand": brand, "pieces": len(approved)},
        )
        filename = f"{brand or 'all'}-{name}"
        return Response(
            body,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{quote(filename)}"',
                "Cache-Control": "no-store",
            },
        )


def _approval(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((e for e in reversed(history) if e["action"] == "review.approve"), None)


def _an_id(text: str) -> bool:
    """Whether ``text`` can be a job or review id (hex, at most 32 characters): anything else is a 404
    without a database query."""
    return 0 < len(text) <= 32 and all(c in "0123456789abcdef" for c in text)


def _safe_next(request: Request, form: dict[str, str] | None = None) -> str:
    """Where to go after signing in: a studio path only (never another site)."""
    target = (form or {}).get("next") or request.query_params.get("next") or "/studio"
    return target if target.startswith("/studio") and "//" not in target and "\\" not in target else "/studio"


def _when(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")
