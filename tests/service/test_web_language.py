"""The dashboard's language: the signed-in user's setting, else the browser's Accept-Language,
else English; one request's language never leaks into another's."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from greenlink.service import accounts
from greenlink.service.context import ServiceContext
from tests.service.conftest import operator_token

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_login_page_follows_the_browser(fresh: tuple[ServiceContext, TestClient]) -> None:
    _ctx, client = fresh
    zh = client.get("/login", headers=ZH).text
    assert _lang(zh) == "zh-CN" and "<h1>登录</h1>" in zh and "密码" in zh
    en = client.get("/login", headers=EN).text
    assert _lang(en) == "en" and "<h1>Log in</h1>" in en
    other = client.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.8"}).text
    assert _lang(other) == "en"


def test_user_setting_beats_the_browser(fresh: tuple[ServiceContext, TestClient]) -> None:
    ctx, client = fresh
    auth = {"Authorization": f"Bearer {operator_token(ctx)}"}
    page = client.get("/parks", headers={**auth, **ZH}).text
    assert _lang(page) == "zh-CN" and "<h1>园区</h1>" in page  # no setting yet: the browser's

    answer = client.post("/language", headers={**auth, **ZH},
                         data={"language": "en", "back": "/parks"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/parks"
    page = client.get("/parks", headers={**auth, **ZH}).text
    assert _lang(page) == "en" and "<h1>Parks</h1>" in page
    assert '<option value="en" selected>' in page

    client.post("/language", headers={**auth, **EN}, data={"language": "zh-CN"})
    assert _lang(client.get("/parks", headers={**auth, **EN}).text) == "zh-CN"
    client.post("/language", headers={**auth, **EN}, data={"language": ""})  # the browser's
    assert _lang(client.get("/parks", headers={**auth, **EN}).text) == "en"

    refused = client.post("/language", headers={**auth, **EN}, data={"language": "xx"})
    assert refused.status_code == 422 and "unknown language" in refused.text
    off_site = client.post("/language", headers={**auth, **EN},
                           data={"language": "en", "back": "//evil.example/"},
                           follow_redirects=False)
    assert off_site.headers["location"] == "/parks"

    principal = accounts.authenticate(ctx, auth["Authorization"].split()[1])
    assert principal.language == "en"  # the last choice that was stored


def test_concurrent_requests_keep_their_own_language(
        fresh: tuple[ServiceContext, TestClient]) -> None:
    _ctx, client = fresh

    def fetch(i: int) -> tuple[str, str]:
        want = "zh-CN" if i % 2 else "en"
        page = client.get("/login", headers=ZH if i % 2 else EN).text
        return want, _lang(page) + ("/登录" if "<h1>登录</h1>" in page else "/Log in")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, range(40)))
    for want, got in results:
        assert got == {"zh-CN": "zh-CN/登录", "en": "en/Log in"}[want]
