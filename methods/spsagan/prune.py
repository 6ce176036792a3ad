"""Prune a trained dense RRDB network into RRSB connectivity and write the pattern file.

    python methods/spsagan/prune.py --weights RUN/generator_fp16.pth --nf 32 --gc 16 --blocks 3 \
        --data ../shared/datasets/T91 --batches 50 --out methods/spsagan/rrsb_pattern.json

The dissimilarities are averaged over `--batches` training batches run through the trained network (the
paper averages them over the last training iterations; the network barely moves over those, and a fixed
network makes the pattern reproducible from the checkpoint).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: make `srbench_methods.spsagan` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from srbench.methods import discover_methods

    discover_methods()
    from srbench_methods.spsagan.arch import SPSAGANConfig, SPSAGenerator  # noqa: E402
    from srbench_methods.spsagan.pruning import DissimilarityRecorder, count_connections, prune_pattern  # noqa: E402
else:
    from .arch import SPSAGANConfig, SPSAGenerator
    from .pruning import DissimilarityRecorder, count_connections, prune_pattern


def measure_and_prune(net: SPSAGenerator, batches) -> tuple[list, list]:
    """Run `batches` (LR tensors) through `net`; return (patterns per dense block, mean DS per block)."""
    recorder = DissimilarityRecorder(net.dense_blocks())
    recorder.active = True
    net.eval()
    try:
        with torch.no_grad():
            for lr in batches:
                net.trunk(net.conv_first(lr))  # only the trunk holds dense blocks
        means = recorder.means()
    finally:
        recorder.detach()
    return [prune_pattern(m) for m in means], means


def main(argv=None) -> int:
    from srbench.methods.base import load_state_dict
    from srbench.train.data import PairedPatchSampler

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--nf", type=int, default=64)
    ap.add_argument("--gc", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=23)
    ap.add_argument("--global-residual", type=int, default=0)
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--patch", type=int, default=96)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = SPSAGANConfig(nf=args.nf, gc=args.gc, blocks=args.blocks, use_spsa=False,
                        global_residual=bool(args.global_residual))
    net = SPSAGenerator(cfg)
    net.load_state_dict({k: v.float() for k, v in load_state_dict(args.weights).items()})
    sampler = PairedPatchSampler(args.data, 4, args.patch, args.batch_size, seed=12345)
    patterns, means = measure_and_prune(net, (sampler.batch(i)["lr"] for i in range(args.batches)))
    from srbench.assets import sha256_file

    doc = {"nf": args.nf, "gc": args.gc, "blocks": args.blocks,
           "source": {"weights_sha256": sha256_file(Path(args.weights)), "batches": args.batches,
                      "batch_size": args.batch_size, "patch": args.patch, "data": args.data},
           "connections": {"dense": count_connections([[tuple(range(l)) for l in range(1, 6)]] * len(patterns)),
                           "pruned": count_connections(patterns)},
           "patterns": [[list(k) for k in p] for p in patterns],
           "dissimilarities": [{str(l): [round(float(v), 5) for v in ds] for l, ds in m.items()} for m in means]}
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"pruned {doc['connections']['dense']} -> {doc['connections']['pruned']} connections; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
