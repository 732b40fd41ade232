"""Page routes of the dashboard: each calls the same service functions as the API and the CLI."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from greenlink import i18n
from greenlink.api.deps import Caller, Ctx, client_address, session_cookie_name
from greenlink.api.ids import MAX_ID, FormId, Id
from greenlink.api.uploads import read_uploads
from greenlink.errors import GreenlinkError
from greenlink.i18n import N_
from greenlink.service import accounts, audit, cbam, certificates, jobs, parks, shipments
from greenlink.service.context import ServiceContext
from greenlink.service.errors import NotFound, ServiceError, TooManyRequests, public_text
from greenlink.service.roles import Action, Role, allowed
from greenlink.web.security import request_form_token, require_form_token
from greenlink.workflows.registry import USER_CLAIM_PURPOSES

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_form_token)])
templates = Jinja2Templates(directory=str(resources.files("greenlink.web") / "templates"))



def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _gwh(value: Any) -> str:
    return "–" if value is None else f"{float(value) / 1e6:,.2f} GWh"


def _margin(value: Any, kpi: str = "") -> str:
    if value is None:
        return "–"
    v = float(value)
    return f"{v * 100:+.1f} pts" if "share" in kpi else f"{v:+,.3g}"


#: Words the pages show for states and kinds that the service stores in English.
_LABELS = {"pass": N_("pass"), "fail": N_("fail"), "not_applicable": N_("not applicable"),
           "no_data": N_("no data"), "succeeded": N_("succeeded"), "failed": N_("failed"),
           "queued": N_("queued"), "running": N_("running"), "simulate": N_("simulation"),
           "optimize": N_("optimisation"), "cbam_template": N_("CBAM template")}


def _label(value: Any) -> str:
    """A stored state or kind (``not_applicable``, ``succeeded``) in the page's language."""
    text = str(value)
    return i18n.gettext(_LABELS[text]) if text in _LABELS else text.replace("_", " ")


_COLUMNS = {"rank": N_("Rank"), "tonnes_per_year": N_("Tonnes per year"),
            "cost_grid_eur": N_("Cost, grid (EUR)"), "cost_dc_eur": N_("Cost, direct (EUR)"),
            "saving_eur": N_("Saving (EUR)"),
            "cost_default_eur": N_("Cost at the default values (EUR)")}


def _column(name: Any) -> str:
    """A column of a service table as a heading (``cost_dc_2030_eur``: cost, direct, 2030)."""
    text = str(name)
    if text in _COLUMNS:
        return i18n.gettext(_COLUMNS[text])
    year = text.removeprefix("cost_dc_").removesuffix("_eur")
    if text.startswith("cost_dc_") and year.isdigit():
        return i18n.gettext("Cost, direct, {year} (EUR)").format(year=year)
    return text.replace("_", " ")


templates.env.filters.update(pct=_pct, gwh=_gwh, margin=_margin, label=_label, column=_column)
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True)


def page_language(request: Request, me: Any = None) -> str:
    """The language of a page: the signed-in user's setting, else the browser's
    ``Accept-Language``, else English."""
    chosen = getattr(me, "language", None)
    if chosen:
        return i18n.check_lang(chosen)
    return i18n.from_accept_language(request.headers.get("accept-language")) or "en"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("me", None)
    context["csrftoken"] = request_form_token(request)  # every form's first field
    lang = page_language(request, context["me"])
    context.update(html_lang=lang, languages=i18n.LANGUAGE_NAMES, return_to=request.url.path)
    # the page is rendered here, in this request's own language (a context variable)
    with i18n.use_lang(lang):
        return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, problems: list[str]) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, problems=problems)


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/parks", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, ctx: Ctx, email: Annotated[str, Form(max_length=254)],
          password: Annotated[str, Form(max_length=1024)]) -> Response:
    try:
        token = accounts.login(ctx, email, password, client_address(request))
    except TooManyRequests as exc:
        page = render(request, "login.html", status=429, error=str(exc))
        page.headers["Retry-After"] = str(exc.retry_after_s or 60)
        return page
    except GreenlinkError as exc:
        return render(request, "login.html", status=401, error=str(exc))
    response = RedirectResponse("/parks", status_code=303)
    response.set_cookie(session_cookie_name(ctx.settings), token.secret, httponly=True,
                        samesite="strict", secure=ctx.settings.cookie_secure, path="/",
                        max_age=int(ctx.settings.token_ttl_hours * 3600))
    return response


@router.post("/logout", response_class=RedirectResponse)
def logout(request: Request, caller: Caller, ctx: Ctx) -> RedirectResponse:
    name = session_cookie_name(ctx.settings)
    token = request.cookies.get(name, "")
    for row in accounts.list_tokens(ctx, caller):
        if row.token_sha256 == accounts.token_digest(token):
            accounts.revoke_token(ctx, caller, row.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(name, httponly=True, samesite="strict",
                           secure=ctx.settings.cookie_secure, path="/")
    return response


@router.post("/language", response_class=RedirectResponse)
def choose_language(caller: Caller, ctx: Ctx,
                    language: Annotated[str, Form(max_length=10)] = "",
                    back: Annotated[str, Form(max_length=300)] = "/parks") -> RedirectResponse:
    """Store the signed-in user's dashboard language (empty: follow the browser)."""
    accounts.set_language(ctx, caller, language or None)
    return RedirectResponse(back if back.startswith("/") and not back.startswith("//")
                            else "/parks", status_code=303)


@router.get("/parks", response_class=HTMLResponse)
def park_list(request: Request, caller: Caller, ctx: Ctx) -> HTMLResponse:
    can_create = allowed(caller.role, Action.PARK_CREATE)
    items = parks.list_parks(ctx, caller) if allowed(caller.role, Action.PARK_READ) else []
    return render(request, "parks.html", me=caller, parks=items, can_create=can_create,
                  error=None)


@router.post("/parks", response_class=HTMLResponse)
def park_upload(request: Request, caller: Caller, ctx: Ctx,
                files: Annotated[list[UploadFile], File()]) -> Response:
    try:
        park = parks.create_park(ctx, caller, read_uploads(files))
    except GreenlinkError as exc:
        _reraise_access(exc)
        return render(request, "parks.html", status=422, me=caller,
                      parks=parks.list_parks(ctx, caller), can_create=True,
                      error=[public_text(str(p), ctx.settings.data_dir)
                             for p in exc.problems])
    return RedirectResponse(f"/parks/{park.id}", status_code=303)


@router.get("/parks/{park_id}", response_class=HTMLResponse)
def park_overview(request: Request, park_id: Id, caller: Caller, ctx: Ctx) -> HTMLResponse:
    scope = parks.park_scope(ctx, caller, park_id)
    try:
        result: parks.ParkResult | None = parks.latest_result(ctx, caller, park_id)
    except NotFound:
        result = None
    job_list = jobs.list_jobs(ctx, caller, park_id)[:10]
    return render(request, "park.html", me=caller, park=scope.park, tenant_user=scope.user_id,
                  result=result, summary=result.visible if result else None, jobs=job_list,
                  can_run=allowed(caller.role, Action.JOB_CREATE),
                  can_report=allowed(caller.role, Action.REPORT_DOWNLOAD),
                  can_certs=allowed(caller.role, Action.CERT_READ),
                  can_cbam=allowed(caller.role, Action.CBAM_READ))


@router.post("/parks/{park_id}/jobs", response_class=RedirectResponse)
def park_run(park_id: Id, caller: Caller, ctx: Ctx,
             kind: Annotated[str, Form()] = "simulate",
             installation: Annotated[str | None, Form()] = None) -> RedirectResponse:
    job = jobs.submit_job(ctx, caller, park_id, kind, installation=installation)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: Id, caller: Caller, ctx: Ctx) -> HTMLResponse:
    job = jobs.get_job(ctx, caller, job_id)
    optimization = (jobs.optimization_result(ctx, caller, job_id)
                    if job.kind == "optimize" and job.status == "succeeded"
                    and allowed(caller.role, Action.OPTIMIZATION_READ) else None)
    return render(request, "job.html", me=caller, job=job, optimization=optimization)


@router.get("/parks/{park_id}/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, park_id: Id, user_id: str, caller: Caller,
              ctx: Ctx) -> HTMLResponse:
    data = parks.user_result(ctx, caller, park_id, user_id)
    scope = parks.park_scope(ctx, caller, park_id)
    return render(request, "user.html", me=caller, park=scope.park, **data)


@router.get("/parks/{park_id}/certificates", response_class=HTMLResponse)
def certificates_page(request: Request, park_id: Id, caller: Caller, ctx: Ctx,
                      message: str | None = None, error: str | None = None) -> HTMLResponse:
    """Certificate holdings, meter-file ingests and (by role) issue/transfer/claim forms."""
    scope = parks.park_scope(ctx, caller, park_id, Action.CERT_READ)
    held = certificates.holdings(ctx, caller, park_id, limit=100)
    ingests = (certificates.list_meter_ingests(ctx, caller, park_id)
               if allowed(caller.role, Action.METER_REPORT_READ) else [])
    verified = (certificates.verify(ctx, caller, park_id)
                if allowed(caller.role, Action.CERT_VERIFY) else None)
    claims = certificates.claims(ctx, caller, park_id)[-50:]
    return render(request, "certificates.html", me=caller, park=scope.park,
                  tenant_user=scope.user_id, held=held, ingests=ingests, verified=verified,
                  claims=claims,
                  purposes=USER_CLAIM_PURPOSES, message=message, error=error,
                  can_ingest=allowed(caller.role, Action.METER_INGEST),
                  can_issue=allowed(caller.role, Action.CERT_ISSUE),
                  can_transfer=allowed(caller.role, Action.CERT_TRANSFER),
                  can_cancel=allowed(caller.role, Action.CERT_CANCEL),
                  can_export=allowed(caller.role, Action.CERT_EXPORT))


def _back(park_id: int, **query: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"/parks/{park_id}/certificates?{urlencode(query)}", status_code=303)


def _reraise_access(exc: GreenlinkError) -> None:
    """Not logged in / not allowed / not visible stay errors; the rest is shown on the page."""
    if isinstance(exc, ServiceError) and exc.status in (401, 403, 404):
        raise exc


def _problems(exc: GreenlinkError, ctx: ServiceContext) -> str:
    return public_text("; ".join(str(p) for p in exc.problems), ctx.settings.data_dir)


@router.post("/parks/{park_id}/meter-files", response_class=RedirectResponse)
def meter_files_upload(park_id: Id, caller: Caller, ctx: Ctx,
                       files: Annotated[list[UploadFile], File()]) -> RedirectResponse:
    uploads = read_uploads(files)  # an odd file name: the error page (422)
    try:
        row = certificates.ingest_meter_files(ctx, caller, park_id, uploads)
    except GreenlinkError as exc:
        _reraise_access(exc)
        return _back(park_id, error=_problems(exc, ctx))
    return RedirectResponse(f"/parks/{park_id}/meter-files/{row.id}", status_code=303)


@router.get("/parks/{park_id}/meter-files/{ingest_id}", response_class=HTMLResponse)
def meter_report_page(request: Request, park_id: Id, ingest_id: Id, caller: Caller,
                      ctx: Ctx) -> HTMLResponse:
    data = certificates.meter_ingest_report(ctx, caller, park_id, ingest_id)
    scope = parks.park_scope(ctx, caller, park_id, Action.METER_REPORT_READ)
    return render(request, "meter_report.html", me=caller, park=scope.park, data=data)


@router.post("/parks/{park_id}/certificates/issue", response_class=RedirectResponse)
def certificates_issue(park_id: Id, caller: Caller, ctx: Ctx) -> RedirectResponse:
    try:
        r = certificates.issue_certificates(ctx, caller, park_id)
    except GreenlinkError as exc:
        _reraise_access(exc)
        return _back(park_id, error=_problems(exc, ctx))
    return _back(park_id, message=f"issued {r['bundles']} bundles ({r['wh']:,} Wh); skipped "
                 f"{r['skipped_already_issued']} hours issued before and "
                 f"{r['skipped_incomplete_hours']} incomplete hours")


@router.post("/parks/{park_id}/certificates/transfer", response_class=RedirectResponse)
def certificates_transfer(park_id: Id, caller: Caller, ctx: Ctx,
                          bundle_id: FormId,
                          to_account: Annotated[str, Form()],
                          quantity_wh: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None
                          ) -> RedirectResponse:
    try:
        new_id = certificates.transfer(ctx, caller, park_id, bundle_id, to_account,
                                       quantity_wh)
    except GreenlinkError as exc:
        _reraise_access(exc)
        return _back(park_id, error=_problems(exc, ctx))
    return _back(park_id, message=f"bundle {new_id} now belongs to {to_account}")


@router.post("/parks/{park_id}/certificates/cancel", response_class=RedirectResponse)
def certificates_cancel(park_id: Id, caller: Caller, ctx: Ctx,
                        bundle_id: FormId, purpose: Annotated[str, Form()],
                        beneficiary: Annotated[str | None, Form()] = None,
                        quantity_wh: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None
                        ) -> RedirectResponse:
    try:
        r = certificates.cancel(ctx, caller, park_id, bundle_id, beneficiary or None,
                                purpose, quantity_wh, operation="web")
    except GreenlinkError as exc:
        _reraise_access(exc)
        return _back(park_id, error=_problems(exc, ctx))
    serials = r.serial_text() or "none needed"
    again = f" (made before, event {r.event_seq}: nothing changed)" if r.replayed else ""
    return _back(park_id, message=f"bundle {r.parts[0].bundle_id} claimed ({purpose}) for "
                 f"{r.beneficiary}: claim {r.claim_id}, {r.claimed_wh:,} Wh, GEC serials "
                 f"{serials}{again}")


@router.get("/parks/{park_id}/cbam", response_class=HTMLResponse)
def cbam_page(request: Request, park_id: Id, caller: Caller, ctx: Ctx) -> HTMLResponse:
    """SEE per process with the route, liability per year grid vs direct, exposure over the
    phase-in years, downloads."""
    from greenlink.workflows.cbam import phase_in_span

    scope = parks.park_scope(ctx, caller, park_id)
    try:
        view: dict[str, Any] | None = cbam.cbam_view(ctx, caller, park_id)
    except NotFound:
        view = None
    templates_ready = {}
    for inst in (view or {}).get("installations", []):
        try:
            cbam.template_file(ctx, caller, park_id, inst["id"])
            templates_ready[inst["id"]] = True
        except NotFound:
            templates_ready[inst["id"]] = False
    return render(request, "cbam.html", me=caller, park=scope.park, view=view,
                  cbam_years=phase_in_span(),
                  tenant_user=scope.user_id, templates_ready=templates_ready,
                  can_template=allowed(caller.role, Action.CBAM_TEMPLATE))


@router.get("/shipments", response_class=HTMLResponse)
def shipments_page(request: Request, caller: Caller, ctx: Ctx) -> HTMLResponse:
    return render(request, "shipments.html", me=caller,
                  shipments=shipments.list_shipments(ctx, caller))


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, caller: Caller, ctx: Ctx) -> HTMLResponse:
    return render(request, "audit.html", me=caller, events=audit.list_events(ctx, caller, 200),
                  Role=Role)
