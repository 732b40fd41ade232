"""Dask clients for the workflows that fan out (portfolio, risk): a scheduler by address, or a
local cluster of worker processes.

A local cluster's workers are started without Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``:
with it glibc returns freed memory at once, and the many year-sized arrays a park-year
allocates and frees cost about 40 % more CPU (measured with benchmarks/portfolio_speed.py). The
other pre-spawn settings (one BLAS/OpenMP thread per worker) stay. Dask's statistical
profiler (a stack sample of the task thread every 10 ms) is off: it competes for the GIL. A
scheduler started with ``dask scheduler``/``dask worker`` is configured by whoever starts it
(``dask worker`` reads the same ``distributed.nanny.pre-spawn-environ`` setting).
"""

from __future__ import annotations

from typing import Any


def local_cluster(workers: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` processes (default 2), one thread each."""
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                 {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ,
                          "distributed.worker.profile.enabled": False}):
        return LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                            dashboard_address=None)


def client_for(scheduler: str | None, workers: int | None = None) -> Any:
    """A client of the scheduler at ``scheduler``, or of a new :func:`local_cluster`."""
    from distributed import Client

    if scheduler:
        return Client(scheduler)
    return Client(local_cluster(workers))


def close_client(client: Any, own_cluster: bool) -> None:
    """Close the client and, when it started it, its local cluster."""
    client.close()
    if own_cluster and client.cluster is not None:
        client.cluster.close()
