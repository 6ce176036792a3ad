"""Fork server for the kill/resume test: imports srbench (and torch) once, then runs each requested
`srbench` command line in a forked child process, optionally killing it with SIGKILL after a delay.

A fresh interpreter costs seconds of imports per run; forking from a process that has imported but not
run anything gives each run a clean process in milliseconds, so ten kills and reruns fit a default test run.
The kill is a real SIGKILL of a separate process: nothing in it gets to clean up.

Usage: python forkserver.py MANIFEST_DIR, then one JSON request per line on stdin:
  {"argv": [...], "env": {...}, "log": "path", "kill_after": seconds or null}
answered by one JSON line: {"killed": bool, "rc": int, "elapsed": seconds}.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _child(request: dict) -> None:
    os.environ.update(request.get("env", {}))
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    rc = 99
    try:
        from srbench.cli import main

        rc = main(request["argv"])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report anything, the parent checks rc
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


def _serve(request: dict) -> dict:
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request)
    kill_after = request.get("kill_after")
    status = None
    if kill_after is None:
        _, status = os.waitpid(pid, 0)
    else:
        deadline = start + kill_after
        while status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            elif time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            else:
                time.sleep(0.002)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return {"killed": killed, "rc": os.waitstatus_to_exitcode(status), "elapsed": time.monotonic() - start}


def main() -> None:
    import torch

    torch.set_num_threads(1)
    import bench_fixtures
    import srbench.cli  # noqa: F401  (imported once, shared by every forked run)
    import srbench.runner  # noqa: F401
    from srbench.metrics import load_builtin_metrics

    load_builtin_metrics()
    bench_fixtures.install_plain(Path(sys.argv[1]))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_serve(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
