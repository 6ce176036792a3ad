"""Loading the generators srbench trained itself (fp16 state_dicts committed next to their adapters).

The file is an `Asset` with a recorded sha256, so an edited or truncated checkpoint fails loudly
(`ChecksumError`); a missing one makes the method `Unavailable`. Weights are stored in fp16 to keep the
repository small and cast back to fp32 for inference.

A user's own `srbench train` output (`--weights FILE`) is loaded as it is; its "srbench" metadata
(train.loop.export_generator) gives the architecture options and the scale it was trained for.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..assets import Asset, sha256_file
from ..errors import AssetError, ChecksumError, Unavailable, UserError
from ..methods.base import load_state_dict
from ..methods.pretrained import load_strict


def trained_weights(filename: str, sha256: str, method: str, shared_subpath: str | None = None) -> Asset:
    """The committed checkpoint `filename` of `method` (found in the method's folder, see `load_trained`;
    `shared_subpath` is where a copy may stand under $SRBENCH_SHARED when the folder lacks it)."""
    return Asset(filename, "weights", sha256=sha256, shared_subpath=shared_subpath)


def checkpoint_metadata(path: str | Path) -> dict:
    """The "srbench" record `srbench train` writes into generator_fp16.pth ({} for any other state_dict)."""
    try:
        obj = torch.load(str(Path(path).expanduser()), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001  (load_state_dict reports unreadable files with the reason)
        return {}
    meta = obj.get("srbench") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def check_trained_scale(path: str | Path, method: str, scale: int) -> None:
    """Unavailable when the checkpoint's metadata says it was trained for another scale."""
    trained = checkpoint_metadata(path).get("scale")
    if trained is not None and int(trained) != scale:
        raise Unavailable(f"{method}: {path} was trained for x{trained} (its srbench metadata), not x{scale}")


def load_trained(net: torch.nn.Module, weights: Asset, method: str, folder: Path,
                 explicit: str | None = None) -> tuple[torch.nn.Module, str]:
    """Load `weights` (the committed file of that name in `folder`, else the shared or cached copy, verified
    against its sha256) into `net`; an `explicit` file (a user's own `srbench train` output) is taken as it is and
    identified by its own sha256. Returns (net, identity)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UserError(f"{explicit}: no such weights file")
    else:
        try:
            local = folder / weights.name
            path = weights.resolve(local if local.is_file() else None)
        except ChecksumError:
            raise
        except AssetError as exc:
            raise Unavailable(f"{method}: trained weights unavailable: {exc}") from None
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}
    load_strict(net, state, path)
    return net, f"sha256:{sha256_file(path) if explicit else weights.sha256}"
