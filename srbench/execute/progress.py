"""Progress of a run: one bar for the whole run (items done / total, items/s, ETA, the current method);
with --verbose also one line per finished method x dataset x scale; nothing with --quiet."""
from __future__ import annotations

import sys
import time
from collections import Counter


class Progress:
    def __init__(self, plan, enabled: bool = True, verbose: bool = False):
        from tqdm import tqdm

        self.enabled = enabled
        self.verbose = verbose and enabled
        self.remaining = Counter((i.method, i.dataset, i.scale) for i in plan.items)
        self.started: dict[tuple, float] = {}
        self.failed: Counter = Counter()
        self.bar = tqdm(total=len(plan.items), unit="item", desc="srbench", disable=not enabled, file=sys.stderr,
                        dynamic_ncols=True, smoothing=0.1,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} items "
                                   "[{elapsed}<{remaining}, {rate_fmt}]{postfix}")

    def start(self, item) -> None:
        """An item is being worked on (the bar names its method)."""
        group = (item.method, item.dataset, item.scale)
        self.started.setdefault(group, time.monotonic())
        self.bar.set_postfix_str(f"{item.method} {item.dataset} x{item.scale}", refresh=False)

    def done(self, item, failed: bool = False) -> None:
        group = (item.method, item.dataset, item.scale)
        self.started.setdefault(group, time.monotonic())
        self.failed[group] += failed
        self.remaining[group] -= 1
        self.bar.update(1)
        if self.verbose and self.remaining[group] == 0:
            seconds = time.monotonic() - self.started[group]
            failed_note = f", {self.failed[group]} failed" if self.failed[group] else ""
            self.bar.write(f"srbench: {item.method} {item.dataset} x{item.scale}: done in {seconds:.1f} s"
                           f"{failed_note}", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
