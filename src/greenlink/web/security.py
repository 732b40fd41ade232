"""Web hardening: cross-site request refusal, form tokens, and the security headers (``secure``)
of every response.

Cross-site requests (CSRF), two layers:

1. :class:`CrossOriginGuard`, for every state-changing request (not GET/HEAD/OPTIONS/TRACE) of
   the API and the dashboard that has no ``Authorization`` header: the browser's Fetch Metadata
   header ``Sec-Fetch-Site`` must say ``same-origin`` (or ``none``: typed by the user); without
   it, the ``Origin`` header must name this host; a request with neither (not a current
   browser) may not carry cookies. The same rule as Go's ``net/http.CrossOriginProtection``;
   it reads no body. A browser cannot add an ``Authorization`` header to a cross-site request
   (CORS is off), and such a request never falls back to the session cookie.
2. Every dashboard form carries ``csrftoken``, an HMAC of the session token under a key of the
   service (:func:`form_token`); :func:`require_form_token` refuses a state-changing dashboard
   request whose token is missing or wrong.

The session cookie is also ``HttpOnly`` and ``SameSite=Strict``.

Headers: a Content-Security-Policy without inline script or style (the dashboard has no
JavaScript and one local stylesheet), no framing (``frame-ancestors 'none'``, ``X-Frame-Options:
DENY``), ``nosniff``, ``Referrer-Policy: same-origin``, ``Cache-Control: no-store`` (pages show
tenants' data) and, with ``Secure`` cookies (behind HTTPS), ``Strict-Transport-Security``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from secure import (
    CacheControl,
    ContentSecurityPolicy,
    CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from starlette.datastructures import Headers

from greenlink import jsonio
from greenlink.api.deps import session_cookie_name
from greenlink.service.context import ServiceContext
from greenlink.service.errors import NotAllowed
from greenlink.service.settings import Settings

CSRF_FIELD = "csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})
REFUSED = "refused: this request came from another site"

Scope = dict[str, Any]
Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
FailurePage = Callable[[Scope], Any]  # scope -> a Starlette response


def from_this_site(headers: Headers) -> bool:
    """Whether a state-changing request may be trusted to come from our own pages."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() in SAME_ORIGIN_SITES
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "").strip().lower()
        try:
            netloc = urlsplit(origin.strip()).netloc.lower()
        except ValueError:
            return False
        return bool(host) and netloc == host
    return "cookie" not in headers  # neither header: not a browser, so no browser's cookies


class CrossOriginGuard:
    """Refuse cross-site state-changing requests (403) before they reach the app."""

    def __init__(self, app: Any, failure_page: FailurePage, api_prefix: str = "/api/") -> None:
        self.app = app
        self.failure_page = failure_page
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "authorization" in headers or from_this_site(headers):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.api_prefix):
            body = jsonio.dumps({"detail": f"{REFUSED} (scripts: use a bearer token)",
                                 "problems": []}, indent=None).encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.failure_page(scope)(scope, receive, send)


def form_token(secret: bytes, session_token: str | None) -> str:
    """The ``csrftoken`` of the forms of one session ("" without a session)."""
    if not session_token:
        return ""
    return hmac.new(secret, b"greenlink-form:" + session_token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def request_form_token(request: Request) -> str:
    """The form token for the session of ``request``."""
    ctx: ServiceContext = request.app.state.ctx
    return form_token(request.app.state.form_secret,
                      request.cookies.get(session_cookie_name(ctx.settings)))


async def require_form_token(request: Request) -> None:
    """Dependency of every dashboard route: a state-changing request made with the session
    cookie must send the session's ``csrftoken`` form field."""
    if request.method in SAFE_METHODS:
        return
    expected = request_form_token(request)
    if not expected:  # no session: nothing to forge (logging in is guarded by the Origin)
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise NotAllowed("this form has expired or was sent from another site: reload the "
                         "page and try again")


class SecurityHeaders:
    """Put the headers of a :class:`secure.Secure` on every HTTP response, replacing any value
    the app set for the same header.

    (``secure``'s own ``SecureASGIMiddleware`` 2.0.1 loses an unrelated header and keeps a
    duplicate when a response already has two of its headers: it deletes by stale list
    positions.)
    """

    def __init__(self, app: Any, secure: Secure) -> None:
        self.app = app
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in secure.headers.items()]
        self.names = frozenset(name for name, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers") or []
                        if bytes(k).lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def security_headers(settings: Settings) -> Secure:
    """The headers every response gets (:mod:`secure`)."""
    csp = (ContentSecurityPolicy().default_src("'self'").script_src("'self'")
           .style_src("'self'").img_src("'self'", "data:").object_src("'none'")
           .base_uri("'none'").form_action("'self'").frame_ancestors("'none'"))
    return Secure(
        csp=csp, xfo=XFrameOptions().deny(), xcto=XContentTypeOptions().nosniff(),
        referrer=ReferrerPolicy().same_origin(), coop=CrossOriginOpenerPolicy().same_origin(),
        corp=CrossOriginResourcePolicy().same_origin(),
        permissions=PermissionsPolicy().geolocation().microphone().camera(),
        cache=CacheControl().no_store(),
        hsts=StrictTransportSecurity().max_age(365 * 24 * 3600) if settings.cookie_secure
        else None)
