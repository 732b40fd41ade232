"""The dashboard in a real browser, in English and in Chinese (the browser's Accept-Language):
the log-in page, the list of parks, a park's page with a simulation, a tenant's page, the
certificates, CBAM, shipments, audit and job pages, each at 1280 px, with the layout measure of
``tests/report/test_layout_browser.py``: nothing wider than the page, nothing cut off, no two
pieces of text overlapping; Chinese characters drawn with the font the dashboard serves (the
test machine has no CJK font). Screenshots are saved in the test's temporary folder as
``dashboard_{page}_{lang}.png``: ``dashboard_login_en.png``, ``dashboard_parks_en.png``,
``dashboard_park_en.png``, ``dashboard_tenant_en.png``, ``dashboard_certificates_en.png``,
``dashboard_cbam_en.png``, ``dashboard_shipments_en.png``, ``dashboard_audit_en.png``,
``dashboard_job_en.png`` and the same with ``zh-CN``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenlink import i18n
from greenlink.service import accounts, jobs
from greenlink.service.demo import DEMO_DOMAIN, seed_demo
from greenlink.service.settings import make_settings
from greenlink.service.startup import open_service
from tests.report.test_layout_browser import LAYOUT_JS, SCREEN_WIDTH_PX, no_tofu
from tests.service.conftest import FAST_HASH, PASSWORD, operator_keys
from tests.service.test_browser import browser, free_port

playwright = pytest.importorskip("playwright.sync_api")

__all__ = ["browser"]  # the Chromium fixture, shared with test_browser.py

OPERATOR = f"operator@{DEMO_DOMAIN}"
TENANT = f"alu_extruder@{DEMO_DOMAIN}"
#: (page name, who signs in, path: ``{park}`` is the demo park's id)
IMPORTER = f"importer@{DEMO_DOMAIN}"
PAGES = [("login", None, "/login"), ("parks", OPERATOR, "/parks"),
         ("park", OPERATOR, "/parks/{park}"),
         ("tenant", TENANT, "/parks/{park}/users/alu_extruder"),
         ("certificates", OPERATOR, "/parks/{park}/certificates"),
         ("cbam", TENANT, "/parks/{park}/cbam"), ("shipments", IMPORTER, "/shipments"),
         ("audit", OPERATOR, "/audit"), ("job", OPERATOR, "/jobs/{job}")]
ACCEPT = {"en": "en-GB,en;q=0.9", "zh-CN": "zh-CN,zh;q=0.9"}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """uvicorn on a free loopback port serving the demo service, the example park simulated."""
    import uvicorn

    from greenlink.web.app import create_app

    folder = tmp_path_factory.mktemp("dashboard")
    settings = make_settings(f"sqlite:///{folder / 'service.db'}", folder,
                             registry_key_dir=operator_keys(folder), **FAST_HASH)
    ctx = open_service(settings)
    park_id, _made = seed_demo(ctx, PASSWORD)
    operator = accounts.authenticate(ctx, accounts.login(ctx, OPERATOR, PASSWORD).secret)
    job = jobs.submit_job(ctx, operator, park_id, "simulate")
    assert ctx.runner is not None
    ctx.runner.wait(job.id, timeout_s=180)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, ctx), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", park_id, job.id
    srv.should_exit = True
    thread.join(timeout=30)
    ctx.close()


def _log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/parks")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_dashboard_page_fits_in_each_language(browser: Any, dashboard: tuple[str, int, int],
                                              tmp_path: Path, lang: str, name: str,
                                              who: str | None, path: str) -> None:
    base, park_id, job_id = dashboard
    context = browser.new_context(viewport={"width": SCREEN_WIDTH_PX, "height": 900},
                                  extra_http_headers={"Accept-Language": ACCEPT[lang]})
    page = context.new_page()
    if who:
        _log_in(page, base, who)
    answer = page.goto(base + path.format(park=park_id, job=job_id))
    assert answer is not None and answer.status == 200
    page.evaluate("() => document.fonts.ready.then(() => true)")
    assert page.evaluate("() => document.documentElement.lang") == lang
    got = page.evaluate(LAYOUT_JS)
    shot = tmp_path / f"dashboard_{name}_{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert got["viewport"] == SCREEN_WIDTH_PX
    assert got["page_width"] <= SCREEN_WIDTH_PX, got["too_wide"][:5]
    assert got["too_wide"] == []
    assert got["cut_off"] == []
    assert got["overlaps"] == []
    assert got["texts"] > 5
    if lang == "zh-CN":
        assert no_tofu(page) > 3  # the header's 绿电直连 and the page's own text
    assert shot.stat().st_size > 10_000
    context.close()
