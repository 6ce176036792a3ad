"""`srbench score SR [--hr HR] --metrics ...`: score SR images that already exist (PIRM evaluate_results.m use)."""
from __future__ import annotations

import sys

NAME = "score"
HELP = "score SR images that already exist (a file or a folder) against HR images with srbench's metrics"


def add_arguments(p) -> None:
    p.add_argument("sr", help="SR image, or folder of SR images (matched to HR images by file name)")
    p.add_argument("--hr", default=None, help="HR image or folder; needed only by full-reference metrics")
    p.add_argument("--scale", default="4", help="the scale the SR images were made at: 2, 3, 4 or 8 (default 4); "
                   "sets the protocol's border crop and the HR modcrop")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: psnr_y,ssim_y with "
                   "--hr, niqe_pirm without)")
    p.add_argument("--protocol", default="matlab", help="evaluation protocol preset (see `srbench list protocols`)")
    p.add_argument("--crop-border", type=int, default=None, help="override the protocol's border crop (pixels)")
    p.add_argument("--out", default=None, help="also write the per-image values to this CSV file")


def run(args) -> int:
    import pandas as pd

    from ..errors import UserError
    from ..imageio import write_text_atomic
    from ..metrics import EvalContext
    from ..runner import parse_scale, select_metrics
    from ..scoring import pair_images, score_pairs, summary_counts, summary_row, unpaired_images

    scale = parse_scale(args.scale)
    if args.crop_border is not None and args.crop_border < 0:
        raise UserError(f"--crop-border {args.crop_border}: must be 0 or more pixels")
    default = "psnr_y,ssim_y" if args.hr else "niqe_pirm"
    names = [n.strip() for n in (args.metrics or default).split(",") if n.strip()]
    if not names:
        raise UserError("--metrics: nothing given")
    ctx = EvalContext.make(scale, args.protocol, args.crop_border)
    metrics, unavailable = select_metrics(names)
    for name, reason in unavailable.items():
        raise UserError(f"metric {name} unavailable: {reason}")
    if args.hr is None:
        needing = [m.name for m in metrics if m.needs_reference]
        if needing:
            raise UserError(f"metric(s) {', '.join(needing)} compare with HR images: give --hr HR_DIR")
        pairs = unpaired_images(args.sr)
    else:
        pairs, extra = pair_images(args.sr, args.hr)
        for path in extra:
            print(f"srbench: note: {path} has no HR image, not scored", file=sys.stderr)
    failures: list = []
    per_image = score_pairs(pairs, metrics, ctx, failures)
    for pair, _metric, reason in failures:  # one line each; the other metrics of the image are kept
        print(f"srbench: error: {pair.sr}: {reason}", file=sys.stderr)
    total = {"image": "mean", **summary_row(per_image, metrics)}
    extra = [total]
    if failures:  # the mean of a metric that failed somewhere is over fewer images: say how many
        extra.append({"image": "n", **summary_counts(per_image, metrics)})
    table = pd.concat([per_image, pd.DataFrame(extra)], ignore_index=True)
    with pd.option_context("display.max_columns", None, "display.width", 200,
                           "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    if args.out:
        write_text_atomic(args.out, table.to_csv(index=False, float_format="%.17g"))
    return 1 if failures else 0
