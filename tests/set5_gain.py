"""Y-PSNR gain of a registered method over MATLAB bicubic on Set5 images (shared by the trained-checkpoint tests)."""
from __future__ import annotations

from pathlib import Path

SET5 = ("baby", "bird", "butterfly", "head", "woman")


def psnr_gains_over_bicubic(datasets: Path, name: str, scale: int, images=SET5) -> list[float]:
    """Per image: PSNR(method) - PSNR(bicubic), Y channel, border = scale, LR by MATLAB bicubic."""
    from srbench.degradations import degrade
    from srbench.imageio import read_image
    from srbench.methods import create_method
    from srbench.metrics import EvalContext, EvalImage, create_metric

    method, bicubic, psnr = create_method(name), create_method("bicubic"), create_metric("psnr_y")
    ctx = EvalContext.make(scale)
    gains = []
    for image in images:
        hr = read_image(datasets / "Set5" / "HR" / f"{image}.png")
        hr = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]
        lr = degrade("bicubic", hr, scale, use_cache=False)
        ref = EvalImage(hr)
        gains.append(psnr.compute(EvalImage(method.super_resolve(lr, scale).pixels), ref, ctx)
                     - psnr.compute(EvalImage(bicubic.super_resolve(lr, scale).pixels), ref, ctx))
    return gains
