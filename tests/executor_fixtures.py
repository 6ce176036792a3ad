"""Test methods for the executors, importable by worker processes (spawned pool workers, `dask worker`s
started with this folder on PYTHONPATH), since methods travel to workers as pickled objects of their class.

`BuildLogNet` appends "pid scale torch-threads" to $SRBENCH_TEST_BUILD_LOG each time its network is built,
so a test can count builds per worker process. `SlowNet` takes a while per image, so that a test can kill
a Dask worker while it is computing one."""
from __future__ import annotations

import os
import time

import torch

from bench_fixtures import TinyNet


class BuildLogNet(TinyNet):
    name = "buildlog"

    def build(self, scale):
        log = os.environ.get("SRBENCH_TEST_BUILD_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()} {scale} {torch.get_num_threads()}\n")
        return super().build(scale)


class SlowNet(TinyNet):
    name = "slownet"
    delay = 0.5

    def forward(self, net, x, scale):
        time.sleep(self.delay)
        return super().forward(net, x, scale)


def install(monkeypatch) -> None:
    import srbench.methods as methods

    for cls in (BuildLogNet, SlowNet):
        monkeypatch.setitem(methods.METHODS._items, cls.name, cls)
