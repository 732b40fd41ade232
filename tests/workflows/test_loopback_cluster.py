"""A real Dask cluster on loopback: ``dask scheduler`` and two ``dask worker`` processes run a
portfolio (and a risk run's years) through the scheduler's address, then are stopped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlink.workflows.portfolio import run_portfolio
from tests.scenario.parks import park_toml, write_park

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask() -> str:
    exe = Path(sys.executable).with_name("dask")
    found = str(exe) if exe.is_file() else shutil.which("dask")
    if not found:
        pytest.fail("the `dask` command line (package distributed) is not installed")
    return found


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH")]))}
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(
            [_dask(), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"], env=env, cwd=tmp_path,
            stdout=(logs / "scheduler.log").open("wb"), stderr=subprocess.STDOUT))
        for i in range(2):
            procs.append(subprocess.Popen(
                [_dask(), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--name", f"w{i}"], env=env,
                cwd=tmp_path, stdout=(logs / f"worker{i}.log").open("wb"),
                stderr=subprocess.STDOUT))
        from distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def test_portfolio_on_a_loopback_cluster(cluster: str, tmp_path: Path) -> None:
    parks = [write_park(tmp_path / f"park{i}", park_toml()) for i in range(4)]
    broken = tmp_path / "broken.toml"
    broken.write_text('schema_version = 1\nname = "broken"\n', encoding="utf-8")
    table = run_portfolio([*parks, broken], out_dir=tmp_path / "out", scheduler=cluster)
    assert list(table["status"]) == ["ok"] * 4 + ["error"]
    assert table["all_rules_passed"].iloc[:4].notna().all()
    workers = set(table["worker"])
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert (tmp_path / "out" / "parks" / "park0-park" / "report.html").is_file()


def test_risk_years_on_a_loopback_cluster(cluster: str, tmp_path: Path) -> None:
    from greenlink.cli.main import example_dir
    from greenlink.workflows.risk import run_risk

    result = run_risk(example_dir() / "park.toml", years=4, seed=3, scheduler=cluster)
    assert len(result.years) == 4 and (result.years["error"] == "").all()


def test_service_job_runner_hands_work_to_the_cluster(cluster: str, tmp_path: Path) -> None:
    """The service's job runner (``GREENLINK_DASK_SCHEDULER``) computes on the same cluster."""
    from greenlink.service.jobs import JobRunner
    from greenlink.workflows.run import RunResult, run_scenario

    park = write_park(tmp_path / "park", park_toml())
    runner = JobRunner(None, 1, scheduler=cluster)  # type: ignore[arg-type]
    try:
        result = runner.compute(run_scenario, park, progress=lambda _m: None)
    finally:
        runner.shutdown()
    assert isinstance(result, RunResult) and result.summary.totals_kwh.load_kwh > 0
    local = JobRunner(None, 1)  # type: ignore[arg-type]
    try:
        assert local.compute(lambda x: x + 1, 1) == 2  # no scheduler: here
    finally:
        local.shutdown()
