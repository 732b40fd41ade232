"""``greenlink users create`` / ``users demo`` and the ``serve`` command's wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from greenlink.cli.serve_cmd import serve, users_app
from greenlink.errors import InputError
from greenlink.service import accounts, parks
from greenlink.service.settings import Settings, make_settings
from greenlink.service.startup import open_service


def test_users_create_then_login(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(users_app, [
        "create", "Boss@Park.test", "--role", "admin", "--org", "Service Co",
        "--password", "a-long-password", "--db", db, "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "created boss@park.test (admin)" in result.output
    again = CliRunner().invoke(users_app, [
        "create", "boss@park.test", "--role", "admin", "--org", "Service Co",
        "--password", "a-long-password", "--db", db, "--data", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output
    short = CliRunner().invoke(users_app, [
        "create", "x@park.test", "--role", "tenant", "--org", "T", "--password", "short",
        "--db", db, "--data", str(tmp_path)])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    ctx = open_service(make_settings(db, tmp_path), start_runner=False)
    try:
        me = accounts.authenticate(ctx, accounts.login(ctx, "boss@park.test",
                                                       "a-long-password").secret)
        assert me.role == "admin"
    finally:
        ctx.close()


def test_users_demo_seeds_the_example_park(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(users_app, ["demo", "--password", "demo-password-1",
                                            "--db", db, "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "operator@demo.greenlink" in result.output
    ctx = open_service(make_settings(db, tmp_path), start_runner=False)
    try:
        tenant = accounts.authenticate(ctx, accounts.login(
            ctx, "data_centre@demo.greenlink", "demo-password-1").secret)
        [park] = parks.list_parks(ctx, tenant)
        assert parks.tenant_user_id(ctx, tenant, park.id) == "data_centre"
    finally:
        ctx.close()


def test_serve_is_a_typer_command() -> None:
    app = typer.Typer()
    app.command()(serve)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "--db" in result.output and "--port" in result.output


def _served_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> Settings:
    """The settings ``greenlink serve ARGS`` would start with (uvicorn not started)."""
    seen: list[Settings] = []

    def fake_create_app(settings: Settings) -> object:
        seen.append(settings)
        return object()

    monkeypatch.setattr("greenlink.web.app.create_app", fake_create_app)
    monkeypatch.setattr("uvicorn.run", lambda *_a, **_k: None)
    app = typer.Typer()
    app.command()(serve)
    result = CliRunner().invoke(app, ["--data", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    return seen[0]


def test_cookies_are_secure_unless_turned_off(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.delenv("GREENLINK_COOKIE_SECURE", raising=False)
    assert _served_settings(monkeypatch, tmp_path).cookie_secure is True
    assert _served_settings(monkeypatch, tmp_path, "--insecure-cookies").cookie_secure is False
    monkeypatch.setenv("GREENLINK_COOKIE_SECURE", "0")
    assert _served_settings(monkeypatch, tmp_path).cookie_secure is False
    monkeypatch.setenv("GREENLINK_COOKIE_SECURE", "yes")
    assert make_settings(None, tmp_path).cookie_secure is True
    assert make_settings(None, tmp_path, cookie_secure=False).cookie_secure is False
    monkeypatch.setenv("GREENLINK_COOKIE_SECURE", "maybe")
    with pytest.raises(InputError, match="GREENLINK_COOKIE_SECURE"):
        make_settings(None, tmp_path)
