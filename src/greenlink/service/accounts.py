"""Organisations, users, passwords (argon2id) and API tokens (stored as SHA-256, revocable,
expiring).

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain SHA-256 of it is enough to
store: unlike a password it cannot be guessed, and a lookup by hash stays one indexed query.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from greenlink.database import transaction
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import Conflict, NotAllowed, NotAuthenticated, NotFound
from greenlink.service.models import ApiToken, Organisation, User, now_utc, utc
from greenlink.service.roles import Action, Role, allowed

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


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require(actor: Principal | None, action: Action) -> None:
    if actor is not None and not allowed(actor.role, action):
        raise NotAllowed(f"role {actor.role} may not {action.value}")


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, email=user.email, role=Role(user.role),
                     organisation_id=user.organisation_id)


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


def _issue(ctx: ServiceContext, user_id: int, name: str, ttl_hours: float) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now_utc() + timedelta(hours=ttl_hours)
    with transaction(ctx.sessions) as s:
        row = ApiToken(user_id=user_id, name=name, token_sha256=token_digest(secret),
                       expires_at=expires)
        s.add(row)
        s.flush()
        audit.record(s, user_id, "token.create", f"token:{row.id}", name=name,
                     expires_at=expires.isoformat())
        return IssuedToken(id=row.id, name=name, secret=secret, expires_at=expires)


def login(ctx: ServiceContext, email: str, password: str) -> IssuedToken:
    """Check a password and issue a session token valid for ``settings.token_ttl_hours``."""
    with ctx.sessions() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise NotAuthenticated("wrong email or password")
    return _issue(ctx, user.id, "login", ctx.settings.token_ttl_hours)


def create_token(ctx: ServiceContext, actor: Principal, name: str,
                 ttl_hours: float) -> IssuedToken:
    """A named API token of the caller (for scripts), valid ``ttl_hours`` [h]."""
    _require(actor, Action.TOKEN_MANAGE)
    return _issue(ctx, actor.user_id, name, ttl_hours)


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
        if row is None or row.revoked_at is not None or utc(row.expires_at) <= now_utc():
            raise NotAuthenticated("token unknown, revoked or expired")
        user = s.get(User, row.user_id)
        if user is None or not user.active:
            raise NotAuthenticated("user inactive")
        return principal_of(user)
