"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against uvicorn on
127.0.0.1: log in, upload the example park, run a simulation, see the plots and the compliance
table, download the report, open the certificates page; a tenant opens its CBAM view (its own
plant only) and cannot open another tenant's page."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from greenlink.service import accounts, parks
from greenlink.service.settings import Settings, make_settings
from greenlink.service.startup import open_service
from tests.service.conftest import EXAMPLE, FAST_HASH, PASSWORD, operator_keys

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """uvicorn serving a fresh service on a free loopback port, with an operator and two
    tenants."""
    import uvicorn

    from greenlink.web.app import create_app

    folder = tmp_path_factory.mktemp("browser")
    settings = make_settings(f"sqlite:///{folder / 'service.db'}", folder,
                             registry_key_dir=operator_keys(folder), **FAST_HASH)
    ctx = open_service(settings, start_runner=False)
    for email, role, org in (("operator@park.test", "operator", "Park operator"),
                             ("alu@park.test", "tenant", "Alu Co"),
                             ("steel@park.test", "tenant", "Steel Co")):
        accounts.create_user(ctx, None, email, PASSWORD, role, org, create_org=True)
    ctx.close()
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", settings
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/parks")


def test_operator_uploads_simulates_and_downloads(server: tuple[str, Settings], browser: Any,
                                                  tmp_path: Path) -> None:
    base, _settings = server
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{base}/parks")  # not logged in → login page
    assert page.url.endswith("/login")
    log_in(page, base, "operator@park.test")
    page.get_by_label("scenario files").set_input_files(
        sorted(str(p) for p in EXAMPLE.rglob("*") if p.is_file()))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url(f"{base}/parks/*")
    assert "Jiangsu example park" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Run simulation and policy check").click()
    page.wait_for_url(f"{base}/jobs/*")
    # locator waits, not wait_for_function: the page's CSP forbids evaluating strings
    expect(page.locator("#job-status")).to_have_text(re.compile("^(succeeded|failed)$"),
                                                     timeout=120_000)
    assert page.locator("#job-status").inner_text() == "succeeded"
    page.locator("#back-to-park").click()
    rows = page.locator("#compliance tbody tr")
    assert rows.count() >= 1
    assert "pass" in page.locator("#compliance").inner_text()
    for plot in ("#plot-day", "#plot-week", "#plot-month", "#plot-users"):
        img = page.locator(plot)
        img.scroll_into_view_if_needed()
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("el => el.naturalWidth") > 100, plot
    assert page.locator("#users tbody tr").count() == 5
    with page.expect_download() as info:
        page.locator("#download-report").click()
    target = tmp_path / "report.html"
    info.value.save_as(target)
    assert "<html" in target.read_text(encoding="utf-8")[:500].lower()
    page.screenshot(path=str(tmp_path / "park.png"), full_page=True)
    page.locator("#link-certificates").click()
    page.wait_for_url(f"{base}/parks/*/certificates")
    assert "Green certificates" in page.locator("h1").inner_text()
    assert page.locator("#verify").inner_text().startswith("Verified")
    assert page.get_by_role("button", name="Upload and validate").count() == 1


def test_tenant_cannot_open_another_tenants_page(server: tuple[str, Settings],
                                                 browser: Any) -> None:
    base, settings = server
    ctx = open_service(settings, start_runner=False)
    try:
        operator = accounts.authenticate(ctx, accounts.login(ctx, "operator@park.test",
                                                             PASSWORD).secret)
        park = parks.list_parks(ctx, operator)[0]
        orgs = {o.name: o.id for o in accounts.list_organisations(ctx, operator)}
        parks.grant_access(ctx, operator, park.id, orgs["Alu Co"], "alu_extruder")
        parks.grant_access(ctx, operator, park.id, orgs["Steel Co"], "steel_fasteners")
    finally:
        ctx.close()
    page = browser.new_page()
    log_in(page, base, "alu@park.test")
    page.goto(f"{base}/parks/{park.id}")
    assert page.locator("#users tbody tr").count() == 1
    assert "Aluminium" in page.locator("#users").inner_text()
    page.locator("#link-cbam").click()  # the CBAM view: its own plant only
    page.wait_for_url(f"{base}/parks/{park.id}/cbam")
    assert page.locator("#inst-alu_plant").count() == 1
    assert page.locator("#inst-alu_plant table.see tbody tr").count() == 2
    assert "cement_plant" not in page.content()
    page.goto(f"{base}/parks/{park.id}")
    own = page.goto(f"{base}/parks/{park.id}/users/alu_extruder")
    assert own is not None and own.status == 200
    other = page.goto(f"{base}/parks/{park.id}/users/steel_fasteners")
    assert other is not None and other.status == 404
    assert "Not found" in page.locator("h1").inner_text()
    assert "Steel" not in page.content()
    report = page.goto(f"{base}/api/v1/parks/{park.id}/report")
    assert report is not None and report.status == 403
