"""The web claim form offers, and the service accepts, exactly the user claim purposes of
``greenlink.certificates.purposes`` (the API schema: tests/certificates/test_purposes.py)."""

from __future__ import annotations

import html
import re

from greenlink.certificates.purposes import CLAIM_PURPOSES, USER_CLAIM_PURPOSES
from tests.service.conftest import Demo


def test_web_claim_form_offers_and_accepts_the_user_purposes(demo: Demo) -> None:
    page = demo.client.get(f"/parks/{demo.park_id}/certificates",
                           headers=demo.headers("operator"))
    assert page.status_code == 200
    (select,) = re.findall(r'<select name="purpose">(.*?)</select>', page.text, re.S)
    assert tuple(re.findall(r"<option>(.*?)</option>", select)) == USER_CLAIM_PURPOSES
    accepted = []
    for purpose in (*CLAIM_PURPOSES, "bogus"):
        r = demo.client.post(f"/parks/{demo.park_id}/certificates/cancel",
                             headers=demo.headers("operator"),
                             data={"bundle_id": "987654", "purpose": purpose,
                                   "beneficiary": "buyer-1"})
        assert r.status_code == 200
        (error,) = re.findall(r'<p class="card fail" id="error">(.*?)</p>', r.text, re.S)
        if "bundle 987654 does not exist" in html.unescape(error):  # past the purpose check
            accepted.append(purpose)
        else:
            assert f"purpose '{purpose}'" in html.unescape(error), error
    assert tuple(accepted) == USER_CLAIM_PURPOSES
