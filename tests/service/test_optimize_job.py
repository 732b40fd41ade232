"""An optimize job (greenlink.optimize, HiGHS) runs in the worker like simulate; its outputs stay
in the job's folder and do not replace the park's latest simulate/check result."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from greenlink.api.deps import session_cookie_name
from greenlink.service.context import ServiceContext
from tests.scenario.parks import park_toml, write_park
from tests.service.conftest import operator_token

OPTIMIZE = """
[optimize]
rules = "none"
battery = { max_energy_kwh = 0 }
targets = [ { metric = "green_share_of_consumption", scope = "park", min = 0.1 } ]
"""


def test_optimize_job(fresh: tuple[ServiceContext, TestClient], tmp_path: Path) -> None:
    ctx, client = fresh
    h = {"Authorization": f"Bearer {operator_token(ctx)}"}
    folder = write_park(tmp_path / "park", park_toml() + OPTIMIZE).parent
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
             for p in sorted(folder.iterdir(), key=lambda p: p.name != "park.toml")]
    park = client.post("/api/v1/parks", headers=h, files=files)
    assert park.status_code == 201, park.text
    park_id = park.json()["id"]
    job = client.post(f"/api/v1/parks/{park_id}/jobs", headers=h, json={"kind": "optimize"})
    assert job.status_code == 202, job.text
    assert ctx.runner is not None
    ctx.runner.wait(job.json()["id"], timeout_s=120)
    done = client.get(f"/api/v1/jobs/{job.json()['id']}", headers=h).json()
    assert done["status"] == "succeeded", done
    out = next(Path(ctx.settings.data_dir).glob(f"parks/*/jobs/{done['id']}"))
    opt = json.loads((out / "optimization.json").read_text(encoding="utf-8"))
    assert opt["feasible"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["shares"]["green_share_of_consumption"] >= 0.1 - 1e-9
    api = client.get(f"/api/v1/jobs/{done['id']}/optimization", headers=h)
    assert api.status_code == 200 and api.json() == opt
    page = client.get(f"/jobs/{done['id']}",
                      cookies={session_cookie_name(ctx.settings): h["Authorization"][7:]})
    assert page.status_code == 200 and 'id="optimization"' in page.text
    # not the park's simulate/check result
    assert client.get(f"/api/v1/parks/{park_id}/result", headers=h).status_code == 404
