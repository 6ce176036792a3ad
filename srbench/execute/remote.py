"""The client loop shared by the executors that compute items elsewhere (worker processes, Dask).

Items are prepared in plan order on the client (HR read, cache looked up); an item with nothing missing is
done at once, the others are submitted as tasks, at most `window` at a time so that memory stays bounded.
Each outcome is committed by the client as it arrives; tabulation later puts results in plan order."""
from __future__ import annotations

import pickle

from ..evaluate import ItemResult, Outcome, Task, commit, compute_task, item_result, prepare_item
from ..plan import one_line
from . import report_error
from .shipping import ShippedContext, ship, ship_method


def pack(task: Task) -> bytes:
    """The task pickled by the client, so that an object that cannot travel fails its item here."""
    return pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)


def run_task(blob: bytes) -> Outcome:
    """What a worker runs: unpickling and computing errors become part of the outcome (one line, as the
    serial executor writes it), so that they neither kill the worker nor need an exception to travel back."""
    try:
        return compute_task(pickle.loads(blob))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - one bad item (even one calling sys.exit) must not cost the run
        return Outcome(error=one_line(exc))


def run_warm(metric_names: tuple[str, ...], torch: bool = False) -> None:
    """What a worker runs first, while the client is still importing and planning: import torch when the
    run's methods need it (`torch`; a Dask worker would otherwise import it on its first item, seconds),
    create the run's metrics by name and load their models, so that its first item does not wait for them
    (models load once per process; the metric objects the tasks bring find them loaded). A name this
    worker does not know, or a model it cannot load, is left for the items to report."""
    if torch:
        import torch as _  # noqa: F401
    from ..metrics import load_builtin_metrics

    registry = load_builtin_metrics()
    for name in metric_names:
        try:
            if name in registry:
                registry.create(name).identity()  # resolves and digests the model of a model metric
        except Exception:  # noqa: BLE001 - an item that needs the metric will fail with the reason
            pass


class Shipper:
    """Each method and metric object is pickled once per run, and unpickled once per worker."""

    def __init__(self):
        self._shipped: dict[int, object] = {}

    def __call__(self, obj, method: bool = False):
        key = id(obj)
        if key not in self._shipped:
            self._shipped[key] = ship_method(obj) if method else ship(obj)
        return self._shipped[key]

    def task(self, task: Task) -> Task:
        return Task(**{**task.__dict__, "method": self(task.method, method=True),
                       "metrics": [self(m) for m in task.metrics], "ctx": ShippedContext(task.ctx)})


class Backend:
    """submit(task) -> handle; wait(handles) -> the handles that are done; outcome(handle) -> Outcome (may
    raise when the transport lost the task); lost(exc) -> whether to resubmit after that exception."""

    def submit(self, blob: bytes):
        raise NotImplementedError

    def wait(self, handles):
        raise NotImplementedError

    def outcome(self, handle) -> Outcome:
        return handle.result()

    def lost(self, exc: BaseException) -> bool:
        return False

    def restart(self) -> "Backend":
        return self

    def window(self) -> int:
        """The most tasks in flight: enough to keep every worker busy, few enough to bound memory."""
        return 2

    def warm(self, metric_names: tuple[str, ...], torch: bool) -> None:
        """Start the workers now and have them import torch if `torch` and load the metrics' models (see
        `run_warm`)."""

    def close(self, abandon: bool = False) -> None:
        """Stop the workers; `abandon`: they never got a task, stop them without waiting for their start."""


def run_remote(plan, config, backend_factory, progress, retries: int = 1, shipper: Shipper | None = None) -> dict:
    """Run the plan's items on the backend `backend_factory()` gives (called when the first item needs
    computing); `shipper`: the one the workers were warmed with, so that they reuse what they received."""
    results: dict[int, ItemResult] = {}
    shipper = shipper or Shipper()
    backend = None
    window = 2
    inflight: dict = {}  # handle -> (item, pending, remote task, tries)

    def finish(item, result: ItemResult) -> None:
        if result.error is not None:
            report_error(item, result.error)
        results[item.index] = result
        progress.done(item, failed=result.error is not None)

    def submit(remote: bytes):
        nonlocal backend
        try:
            return backend.submit(remote)
        except Exception as exc:
            if not backend.lost(exc):
                raise
            backend = backend.restart()  # the pool broke (a worker died) before this task got in
            return backend.submit(remote)

    def collect(block_until: int) -> None:
        while len(inflight) > block_until:
            for handle in backend.wait(list(inflight)):
                item, pending, remote, tries = inflight.pop(handle)
                try:
                    outcome = backend.outcome(handle)
                except Exception as exc:
                    if backend.lost(exc) and tries < retries:
                        inflight[submit(remote)] = (item, pending, remote, tries + 1)
                        continue
                    finish(item, ItemResult(item.index, error=one_line(exc)))
                    continue
                if outcome.error is not None:
                    finish(item, ItemResult(item.index, error=outcome.error))
                    continue
                try:
                    committed = commit(pending, outcome, plan.metrics)
                except Exception as exc:
                    finish(item, ItemResult(item.index, error=one_line(exc)))
                    continue
                finish(item, item_result(item.index, committed))

    for item in plan.items:
        progress.start(item)
        try:
            pending, task = prepare_item(plan, item, config)
            if task is None:
                finish(item, item_result(item.index, commit(pending, None, plan.metrics)))
                continue
            remote = pack(shipper.task(task))
        except Exception as exc:  # one bad item must not cost the rest of the run
            finish(item, ItemResult(item.index, error=one_line(exc)))
            continue
        if backend is None:
            backend = backend_factory()
            window = backend.window()
        inflight[submit(remote)] = (item, pending, remote, 0)
        collect(window - 1)
    if inflight:
        collect(0)
    return results
