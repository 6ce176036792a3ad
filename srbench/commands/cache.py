"""`srbench cache clear|path`: manage the content-addressed results cache."""
from __future__ import annotations

NAME = "cache"
HELP = "show or clear the cache of LR images, SR outputs and per-image results"


def add_arguments(p) -> None:
    p.add_argument("action", choices=["clear", "path"], help="clear: delete cached results; path: print the cache folder")


def run(args) -> int:
    from ..assets import cache_root
    from ..results_cache import clear_cache

    if args.action == "path":
        print(cache_root())
        return 0
    from ..download import sweep_download_temps

    removed = clear_cache() + sweep_download_temps()  # and what killed downloads left beside datasets/weights
    print("removed " + (", ".join(str(p) for p in removed) if removed else "nothing (cache already empty)"))
    return 0
