"""A pack built in zh-CN: its summary.html is in Chinese (headings, row labels, plot) and
verifies in any language; a forged number in it still fails; summary.pdf stays verifiable."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink import i18n
from greenlink.evidence.build import build_green_share_pack
from greenlink.evidence.pack import read_pack
from greenlink.evidence.verify import verify_members
from tests.evidence.conftest import request_for, tiny_flows
from tests.evidence.test_adversary import _resign

SUMMARY = "summary/summary.html"


def _zh_pack(tmp_path: Path, key: Ed25519PrivateKey) -> dict[str, bytes]:
    with i18n.use_lang("zh-CN"):
        build_green_share_pack(request_for(tiny_flows(), "u"), key, tmp_path / "p.zip")
    return read_pack(tmp_path / "p.zip")


def test_zh_summary_verifies_anywhere(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _zh_pack(tmp_path, key)
    page = members[SUMMARY].decode("utf-8")
    assert '<html lang="zh-CN">' in page and "证据包" in page and "<th>声明</th>" in page
    assert "逐时匹配" in page or "<path" in page  # plot text is drawn as paths
    for lang in i18n.LANGUAGES:
        with i18n.use_lang(lang):
            report = verify_members(members, key.public_key())
        assert report.ok, (lang, report.failure)


def test_zh_summary_forged_number_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _zh_pack(tmp_path, key)
    page = members[SUMMARY].decode("utf-8")
    row = next(line for line in page.splitlines() if "<th>hourly_matched_share</th>" in line)
    forged = page.replace(row, row.replace("<td>0.", "<td>0.9"), 1).encode("utf-8")
    assert forged != members[SUMMARY]
    report = verify_members(_resign({**members, SUMMARY: forged}, key), key.public_key())
    assert not report.ok and report.failure is not None
    assert (report.failure.file, report.failure.field) == (SUMMARY, "hourly_matched_share")
