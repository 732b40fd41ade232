"""Organisations, users, passwords (argon2id) and API tokens (stored as SHA-256, revocable,
expiring).

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain SHA-256 of it is enough to
store: unlike a password it cannot be guessed, and a lookup by hash stays one indexed query.

Logins are throttled (``limits``, a moving window): after
``settings.login_max_failures_per_account`` failures for one email address, or
``login_max_failures_per_client`` from one client address, within ``login_failure_window_s``,
further attempts answer 429 until the window has passed, whether the address exists or not.
An attempt is counted before its password is checked (:class:`LoginThrottle`), so attempts
sent at once count as much as attempts sent one after another.
An unknown email address costs the same argon2 verification as a wrong password (against a
dummy hash made with the service's hash parameters) and gets the same answer.

A token made with a token (``create_token``) never outlives its parent: its expiry is capped at
the parent's, and it is valid only while every token up its chain is (revoking a parent ends
the tokens made with it, and theirs). Tokens carry no narrower scope than their user's role, so
a child has exactly the parent's rights.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import threading
import time
import typing
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from greenlink.database import transaction
from greenlink.errors import InputError
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import (
    Conflict,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from greenlink.service.models import ApiToken, Organisation, User, now_utc, utc
from greenlink.service.roles import Action, Role, allowed
from greenlink.service.settings import Settings

TOKEN_PREFIX = "glk_"
MIN_PASSWORD_CHARS = 10


@functools.cache
def _hasher(time_cost: int = 3, memory_kib: int = 65536) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_password(password: str, time_cost: int = 3, memory_kib: int = 65536) -> str:
    """argon2id hash; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""
    return _hasher(time_cost, memory_kib).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against a stored hash (its own parameters are read from the hash)."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash of a random password with the service's parameters: what an unknown email address
    is checked against, so that it takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16), time_cost, memory_kib)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require(actor: Principal | None, action: Action) -> None:
    if actor is not None and not allowed(actor.role, action):
        raise NotAllowed(f"role {actor.role} may not {action.value}")


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, email=user.email, role=Role(user.role),
                     organisation_id=user.organisation_id, language=user.language)


def set_language(ctx: ServiceContext, actor: Principal, language: str | None) -> Principal:
    """Set the caller's own dashboard language (``en``, ``zh-CN``; None or ``""``: follow the
    browser). Every signed-in user may; it changes nothing but the pages they are shown."""
    from greenlink.i18n import check_lang

    try:
        value = check_lang(language) if language else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with transaction(ctx.sessions) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotAuthenticated("user unknown")
        user.language = value
        audit.record(s, actor, "user.language", f"user:{user.id}", language=value)
        return principal_of(user)


def create_organisation(ctx: ServiceContext, actor: Principal | None, name: str) -> Organisation:
    """Create an organisation (``actor=None``: the CLI, trusted)."""
    _require(actor, Action.ORG_CREATE)
    with transaction(ctx.sessions) as s:
        if s.scalar(select(Organisation).where(Organisation.name == name)):
            raise Conflict(f"organisation {name!r} already exists")
        org = Organisation(name=name)
        s.add(org)
        s.flush()
        audit.record(s, actor, "org.create", f"organisation:{org.id}", name=name)
        return org


def list_organisations(ctx: ServiceContext, actor: Principal) -> list[Organisation]:
    _require(actor, Action.ORG_LIST)
    with ctx.sessions() as s:
        return list(s.scalars(select(Organisation).order_by(Organisation.id)))


def create_user(ctx: ServiceContext, actor: Principal | None, email: str, password: str,
                role: Role | str, organisation: str | int, create_org: bool = False) -> User:
    """Create a user in an organisation (by id or name; ``create_org`` makes a missing one)."""
    _require(actor, Action.USER_CREATE)
    if len(password) < MIN_PASSWORD_CHARS:
        raise Conflict(f"password: at least {MIN_PASSWORD_CHARS} characters expected")
    role = Role(role)
    email = email.strip().lower()
    with transaction(ctx.sessions) as s:
        if isinstance(organisation, int):
            org = s.get(Organisation, organisation)
        else:
            org = s.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None and create_org and isinstance(organisation, str):
            org = Organisation(name=organisation)
            s.add(org)
            s.flush()
            audit.record(s, actor, "org.create", f"organisation:{org.id}", name=organisation)
        if org is None:
            raise NotFound(f"organisation {organisation!r} not found")
        if s.scalar(select(User).where(User.email == email)):
            raise Conflict(f"user {email!r} already exists")
        digest = hash_password(password, ctx.settings.argon2_time_cost,
                               ctx.settings.argon2_memory_kib)
        user = User(email=email, password_hash=digest, role=role.value, organisation_id=org.id)
        s.add(user)
        s.flush()
        audit.record(s, actor, "user.create", f"user:{user.id}", email=email, role=role.value,
                     organisation_id=org.id)
        return user


def list_users(ctx: ServiceContext, actor: Principal) -> list[User]:
    _require(actor, Action.USER_LIST)
    with ctx.sessions() as s:
        return list(s.scalars(select(User).order_by(User.id)))


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    id: int
    name: str
    secret: str
    expires_at: datetime


def _issue(ctx: ServiceContext, user_id: int, name: str, ttl_hours: float,
           not_after: datetime | None = None, parent_id: int | None = None) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now_utc() + timedelta(hours=ttl_hours)
    if not_after is not None:
        expires = min(expires, not_after)
    extra = {} if parent_id is None else {"parent": f"token:{parent_id}"}
    with transaction(ctx.sessions) as s:
        row = ApiToken(user_id=user_id, name=name, token_sha256=token_digest(secret),
                       expires_at=expires, parent_id=parent_id)
        s.add(row)
        s.flush()
        audit.record(s, user_id, "token.create", f"token:{row.id}", name=name,
                     expires_at=expires.isoformat(), **extra)
        return IssuedToken(id=row.id, name=name, secret=secret, expires_at=expires)


class LoginThrottle:
    """Login counters of one service: per email address and per client address.

    Every attempt is counted *before* its password is checked, so that concurrent attempts
    cannot all pass a test made before any of them has failed: the per-address counter is a
    ``limits`` moving window whose ``hit`` refuses once full, and a login clears it. The
    per-client limit counts failures and attempts still being checked: every attempt is
    recorded first, and one that logs in, or that is refused unchecked, is recorded again as
    a refund; a client may go on while attempts - refunds stay within the limit, so a
    successful login (many users behind one address) costs nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        window = settings.login_failure_window_s
        self.per_account: RateLimitItem = RateLimitItemPerSecond(
            settings.login_max_failures_per_account, window, namespace="greenlink-login-account")
        self.max_per_client = settings.login_max_failures_per_client
        # counted without a cap of their own: the limit applies to their difference
        self.client_attempts: RateLimitItem = RateLimitItemPerSecond(
            _UNCAPPED, window, namespace="greenlink-login-client")
        self.client_refunds: RateLimitItem = RateLimitItemPerSecond(
            _UNCAPPED, window, namespace="greenlink-login-client-refund")

    def _counted(self, item: RateLimitItem, key: str) -> int:
        return item.amount - self.limiter.get_window_stats(item, key).remaining

    def _client_open(self, client: str) -> int:
        """Attempts of ``client`` in the window that failed or are being checked."""
        refunds = self._counted(self.client_refunds, client)  # first: never under-count
        return self._counted(self.client_attempts, client) - refunds

    def _wait(self, item: RateLimitItem, key: str) -> int:
        reset = self.limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def attempt(self, email: str, client: str | None) -> None:
        """Count one login attempt before its password is checked; raise
        :class:`TooManyRequests` (nothing checked) when the address or the client is over its
        limit."""
        if client:
            if self._client_open(client) >= self.max_per_client:
                _refuse(self._wait(self.client_attempts, client))
            self.limiter.hit(self.client_attempts, client)
            if self._client_open(client) > self.max_per_client:  # others got there first
                self.refund(client)
                _refuse(self._wait(self.client_attempts, client))
        if not self.limiter.hit(self.per_account, email):
            if client:
                self.refund(client)
            _refuse(self._wait(self.per_account, email))

    def refund(self, client: str | None) -> None:
        """Take back a client's attempt that did not fail (logged in, or refused unchecked)."""
        if client:
            self.limiter.hit(self.client_refunds, client)

    def succeeded(self, email: str, client: str | None) -> None:
        self.limiter.clear(self.per_account, email)
        self.refund(client)


_UNCAPPED = 10**6  # per-client attempts and refunds: counted, not capped (see LoginThrottle)


def _refuse(wait_s: int) -> typing.NoReturn:
    raise TooManyRequests(f"too many failed logins; try again in {_minutes(wait_s)}",
                          retry_after_s=wait_s)


_throttles: weakref.WeakKeyDictionary[object, LoginThrottle] = weakref.WeakKeyDictionary()
_throttles_lock = threading.Lock()


def login_throttle(ctx: ServiceContext) -> LoginThrottle:
    """The login counters of the service ``ctx`` belongs to (one per opened service)."""
    with _throttles_lock:
        throttle = _throttles.get(ctx.sessions)
        if throttle is None:
            throttle = _throttles[ctx.sessions] = LoginThrottle(ctx.settings)
        return throttle


def login(ctx: ServiceContext, email: str, password: str,
          client: str | None = None) -> IssuedToken:
    """Check a password and issue a session token valid for ``settings.token_ttl_hours``.

    ``client`` is the caller's network address (counted for the per-client limit). Unknown,
    inactive and wrong-password logins take the same time and raise the same error; too many
    failures raise :class:`TooManyRequests`, with or without the right password.
    """
    key = email.strip().lower()
    throttle = login_throttle(ctx)
    throttle.attempt(key, client)  # counted before the check: concurrent guesses count too
    with ctx.sessions() as s:
        user = s.scalar(select(User).where(User.email == key))
    settings = ctx.settings
    stored = user.password_hash if user is not None else \
        _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_kib)
    password_ok = verify_password(stored, password)
    if user is None or not user.active or not password_ok:
        raise NotAuthenticated("wrong email or password")  # the attempt stays counted
    throttle.succeeded(key, client)
    return _issue(ctx, user.id, "login", settings.token_ttl_hours)


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def create_token(ctx: ServiceContext, actor: Principal, name: str, ttl_hours: float,
                 parent: str) -> IssuedToken:
    """A named API token of the caller (for scripts), valid ``ttl_hours`` [h] but never longer
    than ``parent``, the token the request was made with."""
    _require(actor, Action.TOKEN_MANAGE)
    with ctx.sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(parent)))
    if row is None or row.user_id != actor.user_id or row.revoked_at is not None \
            or utc(row.expires_at) <= now_utc():
        raise NotAuthenticated("token unknown, revoked or expired")
    return _issue(ctx, actor.user_id, name, ttl_hours, not_after=utc(row.expires_at),
                  parent_id=row.id)


def list_tokens(ctx: ServiceContext, actor: Principal) -> list[ApiToken]:
    with ctx.sessions() as s:
        return list(s.scalars(select(ApiToken).where(ApiToken.user_id == actor.user_id)
                              .order_by(ApiToken.id)))


def revoke_token(ctx: ServiceContext, actor: Principal, token_id: int) -> ApiToken:
    """Revoke one of the caller's tokens (an admin may revoke anyone's)."""
    with transaction(ctx.sessions) as s:
        row = s.get(ApiToken, token_id)
        if row is None or (row.user_id != actor.user_id and actor.role != Role.ADMIN):
            raise NotFound(f"token {token_id} not found")
        if row.revoked_at is None:
            row.revoked_at = now_utc()
            audit.record(s, actor, "token.revoke", f"token:{row.id}")
        return row


def authenticate(ctx: ServiceContext, token: str) -> Principal:
    """The principal owning ``token``; 401 when unknown, revoked or expired."""
    with ctx.sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
        now = now_utc()
        link, seen = row, set()
        while link is not None:  # the token and every token up its chain must be live
            if link.revoked_at is not None or utc(link.expires_at) <= now or link.id in seen:
                raise NotAuthenticated("token unknown, revoked or expired")
            seen.add(link.id)
            link = s.get(ApiToken, link.parent_id) if link.parent_id is not None else None
        if row is None:
            raise NotAuthenticated("token unknown, revoked or expired")
        user = s.get(User, row.user_id)
        if user is None or not user.active:
            raise NotAuthenticated("user inactive")
        return principal_of(user)
