"""`--device`: 'auto' (the default) picks cuda when torch sees a GPU, else cpu; any other value is checked
before a run starts, so an unusable device is one UserError (exit 2), not a traceback per method."""
from __future__ import annotations

from .errors import UserError

AUTO = "auto"


def resolve_device(spec: str | None) -> str:
    """The torch device string to use for `spec` ('auto', 'cpu', 'cuda', 'cuda:1', 'mps', ...)."""
    import torch

    spec = (spec or AUTO).strip()
    if spec == AUTO:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError, TypeError):
        raise UserError(f"--device {spec}: not a torch device (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "meta":
        raise UserError(f"--device {spec}: the meta device computes no pixels (use auto, cpu, cuda or cuda:N)")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise UserError(f"--device {spec}: {why} (torch {torch.__version__}); use --device cpu or auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise UserError(f"--device {spec}: only {count} CUDA device(s) visible (cuda:0..cuda:{count - 1})")
    try:  # any other backend (mps, xpu, ...): usable when a tensor can live there
        torch.zeros(1, device=device)
    except Exception as exc:  # noqa: BLE001  (each backend raises its own type)
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise UserError(f"--device {spec}: not usable here ({reason})") from None
    return str(device)
