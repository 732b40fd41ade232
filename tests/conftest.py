"""Suite-wide test settings.

CI sets ``GREENLINK_NO_SKIPS=1``: there every tool the tests need is installed (``make test``
installs LibreOffice, Chromium and PostgreSQL when missing, and ../shared lies beside the
checkout), so a skip would only hide a missing part — it is reported as a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

# The suite's expected texts are English unless a test asks for another language: a developer's
# zh_CN locale (or GREENLINK_LANG) must not change what the other tests read.
os.environ["GREENLINK_LANG"] = "en"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("GREENLINK_NO_SKIPS") == "1" and report.skipped \
            and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but GREENLINK_NO_SKIPS=1 (CI): {report.longrepr}"
