"""Measure the peak memory of one SPSAGAN forward pass (CPU, fp32) for a given LR size and attention chunk.

    python methods/spsagan/attention_memory.py --lr-size 128 --chunk 1024 [--paper]

Prints the peak resident memory growth of this process during the pass (ru_maxrss, Linux KiB) next to the
model estimate of MODEL_CARD.md: attention temporaries ~ 6 * chunk * N * 4 bytes (N = LR pixels).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from srbench.methods import discover_methods

    discover_methods()
    from srbench_methods.spsagan.arch import SPSAGAN_PAPER, SPSAGenerator
    from srbench_methods.spsagan.adapter import CONFIG_FILE, generator_for
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("--lr-size", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--paper", action="store_true", help="the paper's nf 64 / 23 blocks instead of the shipped net")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    shipped = json.loads(CONFIG_FILE.read_text())["x4"] if CONFIG_FILE.is_file() else {"arch": {"global_residual": True}}
    net = SPSAGenerator(SPSAGAN_PAPER) if args.paper else generator_for(shipped)
    net.eval()
    net.spsa.chunk = args.chunk
    n = args.lr_size ** 2
    x = torch.rand(1, 3, args.lr_size, args.lr_size)
    seg = torch.softmax(torch.randn(1, 8, 4 * args.lr_size, 4 * args.lr_size), 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.time()
    with torch.inference_mode():
        net(x, seg)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"lr {args.lr_size}x{args.lr_size} (N={n}) chunk {args.chunk}: peak growth {peak / 1024:.0f} MiB, "
          f"attention estimate {6 * args.chunk * n * 4 / 2**20:.0f} MiB, {time.time() - t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
