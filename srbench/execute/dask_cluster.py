"""--executor dask: items computed by the workers of a Dask distributed cluster.

With --scheduler tcp://HOST:PORT the tasks go to that cluster; without one, a LocalCluster of --jobs worker
processes (one thread each, torch/BLAS threads so that workers x threads <= cores) is started on 127.0.0.1
and stopped at the end. Each task carries its inputs (HR pixels, cached LR/SR, the method and metric
objects) and its outcome comes back to this process, which alone writes the cache and the run folder: the
workers need srbench and the weights they run, but neither the datasets nor a shared filesystem. Dask
reschedules the tasks of a worker that dies; results are keyed by plan position, so a rescheduled item is
neither lost nor counted twice."""
from __future__ import annotations

import logging

from ..errors import UserError
from . import available_cores
from .remote import Backend, run_task, run_warm

INSTALL_HINT = "pip install 'srbench[dask]'"
# The LocalCluster's scheduler, nannies and workers poll the system every 100-500 ms by default, and each
# worker samples its task thread's stack every 10 ms for the dashboard's profile. On a small machine both
# compete with the items (measured on 2 cores, bicubic/BSD100/default metrics: the polling 6% of the run,
# the profiler another 9%: 0.482 s against 0.440 s an item).
QUIET_MONITORS = {"distributed.admin.system-monitor.interval": "5s", "distributed.worker.profile.enabled": False,
                  "distributed.worker.memory.monitor-interval": "2s", "distributed.admin.tick.interval": "1s"}


def require_distributed():
    """The `distributed` module, or a one-line UserError saying how to get it."""
    try:
        import distributed
    except ImportError:
        raise UserError(f"--executor dask needs Dask distributed, which is not installed ({INSTALL_HINT})") from None
    return distributed


class DaskBackend(Backend):
    def __init__(self, scheduler: str | None, jobs: int):
        distributed = require_distributed()
        import dask

        self.distributed = distributed
        self.cluster = None
        if scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise UserError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            from .pool import plan_workers, thread_variables

            workers, threads = plan_workers(jobs, available_cores())
            environ = thread_variables(threads)  # the nanny sets these in each worker before it imports anything
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **QUIET_MONITORS}):
                self.cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)

    def window(self) -> int:
        return max(2, 2 * sum(self.client.nthreads().values()))

    def submit(self, task):
        return self.client.submit(run_task, task, pure=False)

    def wait(self, handles):
        return self.distributed.wait(handles, return_when="FIRST_COMPLETED").done

    def warm(self, metric_names: tuple[str, ...], torch: bool) -> None:
        # held, so that Dask does not forget them before they ran; one per worker known now
        self._warm = [self.client.submit(run_warm, metric_names, torch, workers=[address], pure=False)
                      for address in self.client.scheduler_info().get("workers", {})]

    def close(self, abandon: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
