"""Demo accounts for the bundled example park: one organisation per role and one tenant
organisation per example user, all with the same (demo-only) password."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from greenlink.service import accounts, parks
from greenlink.service.context import ServiceContext
from greenlink.service.models import Organisation, User
from greenlink.service.uploads import UploadedFile

DEMO_DOMAIN = "demo.greenlink"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    organisation: str
    park_user_id: str | None = None


def example_dir() -> Path:
    return Path(str(resources.files("greenlink") / "examples" / "jiangsu_park"))


def example_files() -> list[UploadedFile]:
    """The example park as an upload: park.toml and every file beside it (series, CBAM data)."""
    folder = example_dir()
    return [UploadedFile(p.name, p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")]


def demo_accounts(user_ids: list[str]) -> list[DemoAccount]:
    fixed = [DemoAccount(f"admin@{DEMO_DOMAIN}", "admin", "greenlink service"),
             DemoAccount(f"operator@{DEMO_DOMAIN}", "operator", "Jiangning park operator"),
             DemoAccount(f"verifier@{DEMO_DOMAIN}", "verifier", "Verifier Co."),
             DemoAccount(f"importer@{DEMO_DOMAIN}", "importer", "Alu Import Europe GmbH")]
    tenants = [DemoAccount(f"{uid}@{DEMO_DOMAIN}", "tenant", f"tenant {uid}", uid)
               for uid in user_ids]
    return fixed + tenants


def seed_demo(ctx: ServiceContext, password: str) -> tuple[int, list[DemoAccount]]:
    """Create the demo accounts, upload the example park as the operator and grant the verifier
    and each tenant access. Returns the park id and the accounts (idempotent for accounts)."""
    with ctx.sessions() as s:
        existing = set(s.scalars(select(User.email)))
    from greenlink.scenario.load import load_scenario

    folder = Path(str(resources.files("greenlink") / "examples" / "jiangsu_park"))
    user_ids = list(load_scenario(folder / "park.toml").scenario.user_ids)
    made = demo_accounts(user_ids)
    for acc in made:
        if acc.email not in existing:
            accounts.create_user(ctx, None, acc.email, password, acc.role, acc.organisation,
                                 create_org=True)
    operator = accounts.principal_of(_user(ctx, f"operator@{DEMO_DOMAIN}"))
    park = parks.create_park(ctx, operator, example_files())
    with ctx.sessions() as s:
        orgs = {o.name: o.id for o in s.scalars(select(Organisation))}
    for acc in made:
        if acc.role in ("tenant", "verifier"):
            parks.grant_access(ctx, operator, park.id, orgs[acc.organisation], acc.park_user_id)
    return park.id, made


def _user(ctx: ServiceContext, email: str) -> User:
    with ctx.sessions() as s:
        user = s.scalar(select(User).where(User.email == email))
    assert user is not None
    return user
