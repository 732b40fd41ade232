"""``greenlink serve`` (the web service) and ``greenlink users`` (accounts, demo seeding)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from greenlink.cli.common import plain_console as console
from greenlink.cli.common import user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.service.roles import Role

if TYPE_CHECKING:
    from greenlink.service.context import ServiceContext

users_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help=N_("Create service accounts (the first admin/operator) and demo "
                                "users."))

DbOption = Annotated[str | None, typer.Option(
    "--db", help=N_("database URL (default sqlite:///<data>/service.db; "
                 "postgresql+psycopg://user@host/db for PostgreSQL)"))]
DataOption = Annotated[Path | None, typer.Option(
    "--data", help=N_("folder for stored parks and results (default ./greenlink-service)"))]


def serve(db: DbOption = None, data: DataOption = None,
          host: Annotated[str, typer.Option(help=N_("address to listen on"))] = "127.0.0.1",
          port: Annotated[int, typer.Option(help=N_("TCP port"))] = 8000,
          max_upload_mb: Annotated[float, typer.Option(
              help=N_("largest request body [MB]"))] = 20.0,
          insecure_cookies: Annotated[bool, typer.Option(
              "--insecure-cookies",
              help=N_("session cookies without the Secure flag, and no HSTS: only for plain "
                   "http on your own machine (default: Secure, for a service behind HTTPS; "
                   "also GREENLINK_COOKIE_SECURE=0)"))] = False,
          ) -> None:
    """Start the web service (API at /api/v1, spec at /openapi.json, dashboard at /);
    migrations are applied on start."""
    import uvicorn

    from greenlink.service.settings import make_settings
    from greenlink.web.app import create_app

    overrides: dict[str, object] = {"max_request_bytes": int(max_upload_mb * 1024 * 1024)}
    if insecure_cookies:
        overrides["cookie_secure"] = False
    with user_errors():
        settings = make_settings(db, data, **overrides)
        app = create_app(settings)
    console.print(_("greenlink service on {url}  (data {data})").format(
        url=f"http://{host}:{port}/", data=settings.data_dir), highlight=False)
    if settings.cookie_secure:
        console.print(_("cookies are Secure: open the dashboard through HTTPS (a TLS proxy), or "
                      "start with --insecure-cookies for plain http on this machine"),
                      highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def _open(db: str | None, data: Path | None) -> ServiceContext:
    from greenlink.service.settings import make_settings
    from greenlink.service.startup import open_service

    return open_service(make_settings(db, data), start_runner=False)


@users_app.command("create")
def create_user(email: Annotated[str, typer.Argument(help=N_("login email"))],
                role: Annotated[Role, typer.Option(help=N_("role of the user"))],
                organisation: Annotated[str, typer.Option("--org", help=N_("organisation name "
                                                          "(created if missing)"))],
                password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                                      confirmation_prompt=True)],
                db: DbOption = None, data: DataOption = None) -> None:
    """Create a user (e.g. the first admin or park operator)."""
    from greenlink.service.accounts import create_user as create

    with user_errors():
        ctx = _open(db, data)
        try:
            user = create(ctx, None, email, password, role, organisation, create_org=True)
        finally:
            ctx.close()
    console.print(_("created {email} ({role}) in organisation {organisation!r}").format(
        email=user.email, role=user.role, organisation=organisation), highlight=False)


@users_app.command("demo")
def demo(password: Annotated[str, typer.Option(help=N_("password of every demo account "
                                               "(demo only!)"))] = "greenlink-demo",
         db: DbOption = None, data: DataOption = None) -> None:
    """Create demo accounts and upload the example park (operator, verifier, importer, admin and
    one tenant per example user)."""
    from greenlink.service.demo import seed_demo

    with user_errors():
        ctx = _open(db, data)
        try:
            park_id, made = seed_demo(ctx, password)
        finally:
            ctx.close()
    console.print(_("example park uploaded as park {park}; accounts (password "
                    "{password!r}):").format(park=park_id, password=password), highlight=False)
    for acc in made:
        extra = f" → {acc.park_user_id}" if acc.park_user_id else ""
        console.print(f"  {acc.email:<34} {acc.role}{extra}", highlight=False)
