"""Method adapter interface.

An adapter declares its scales and its network's input convention; `SRMethod.super_resolve` does the
colour/range/upsampling conversions, so an adapter only builds and runs its network.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import matlab
from ..errors import Unavailable

# Where a method's weights come from. Shown by `srbench list methods` and recorded in run.json
# (methods[<name>]["provenance"]) so that no surrogate is mistaken for a paper's own model.
PUBLISHED = "published weights"            # the authors' (or a public re-implementation's) released file
SURROGATE = "srbench-trained surrogate"    # srbench's own short training of a paper's architecture
USER = "user checkpoint"                   # a checkpoint the user supplied (torch:PATH, --weights)
BASELINE = "baseline"                      # no learned weights (bicubic)
PROVENANCES = (PUBLISHED, SURROGATE, USER, BASELINE)


@dataclass(frozen=True)
class InputSpec:
    """What the network consumes.

    channels: "rgb" (3 channels) or "y" (MATLAB rgb2ycbcr luminance; Cb/Cr are upscaled with MATLAB bicubic).
    value_range: the network sees pixel values in [0, value_range] (1.0 or 255.0).
    pre_upsample: the network takes the MATLAB-bicubic upsampled LR (HR size) instead of the LR itself.
    """

    channels: str = "rgb"
    value_range: float = 1.0
    pre_upsample: bool = False


@dataclass
class SROutput:
    """A super-resolved image: uint8 pixels (HxWx3, or HxWx1 for grayscale input) and, for Y-only
    methods, the network's own Y plane quantised to uint8 levels (float64), which Y metrics use
    instead of re-deriving Y from the reconstructed RGB."""

    pixels: np.ndarray
    native_y: np.ndarray | None = None


class SRMethod:
    """Base adapter. Subclasses set `name`, `scales`, `input_spec` and implement `build` and `forward`."""

    name: str = ""
    scales: tuple[int, ...] = ()
    input_spec: InputSpec = InputSpec()
    description: str = ""
    # One of PROVENANCES; a `weights` override makes an instance a USER checkpoint.
    provenance: str = ""
    # Receptive-field radius in input pixels: tiles overlap by at least this much.
    receptive_field: int = 16
    # False for a method that runs no torch network (bicubic): workers of a plan made only of such methods
    # start without importing torch, which is most of their start-up.
    has_network: bool = True

    def __init__(self, weights: str | None = None, device: str = "cpu", tile: int | None = None,
                 tile_overlap: int | None = None):
        self.weights_override = weights
        if weights:
            self.provenance = USER
        self.device = device
        self.tile = tile
        self.tile_overlap = tile_overlap
        self._prepared: dict[int, object] = {}
        # (name or None, LR height and width) of the image super_resolve is working on
        self.current_image: tuple[str | None, tuple[int, int]] = (None, (0, 0))

    @property
    def device(self):
        """The torch device; kept as its name, so that a method object unpickles without importing torch."""
        import torch

        return torch.device(self._device)

    @device.setter
    def device(self, value) -> None:
        import torch

        self._device = str(torch.device(value))  # an invalid name fails here, as before

    # ---- what a subclass provides
    def build(self, scale: int) -> tuple[torch.nn.Module | None, str]:
        """Return (network or None, weights identity such as a sha256). Raise Unavailable if weights are missing."""
        raise NotImplementedError

    def forward(self, net: torch.nn.Module | None, x: torch.Tensor, scale: int) -> torch.Tensor:
        """Run the network on NCHW float input in [0, value_range]; return NCHW output at HR size."""
        return net(x)

    # ---- provided
    def check_scale(self, scale: int) -> None:
        if scale not in self.scales:
            raise Unavailable(f"{self.name} does not support x{scale} (supports {', '.join(f'x{s}' for s in self.scales)})")

    def prepare(self, scale: int):
        """Build once per scale; returns the network."""
        self.check_scale(scale)
        if scale not in self._prepared:
            net, ident = self.build(scale)
            if net is not None:
                net = net.to(self.device).eval()
            self._prepared[scale] = (net, ident)
        return self._prepared[scale][0]

    def identity(self, scale: int) -> str:
        """Cache key of this method at this scale: name plus the weights' identity."""
        self.prepare(scale)
        return f"{self.name}:x{scale}:{self._prepared[scale][1]}"

    def run_network(self, x: np.ndarray, scale: int) -> np.ndarray:
        """HxWxC float64 in [0, value_range] -> HR-size HxWxC float64 in the same range."""
        import torch

        net = self.prepare(scale)
        tensor = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None])).float().to(self.device)
        out_scale = 1 if self.input_spec.pre_upsample else scale
        with torch.inference_mode():
            if self.tile:
                from .tiling import tiled_forward
                overlap = self.tile_overlap if self.tile_overlap is not None else self.receptive_field
                y = tiled_forward(lambda t: self.forward(net, t, scale), tensor, out_scale, self.tile, overlap)
            else:
                y = self.forward(net, tensor, scale)
        if not bool(torch.isfinite(y).all()):
            # im2uint8 would silently turn NaN into 0 and Inf into 255: refuse instead
            from ..errors import SrbenchError

            raise SrbenchError(f"{self.name} x{scale}: network output contains NaN or Inf")
        return y[0].detach().cpu().double().numpy().transpose(1, 2, 0)

    def super_resolve(self, lr: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        """uint8 LR (HxWx3 or HxWx1) -> SROutput at scale x the LR size.

        `image_name` (the file stem, when the caller knows it) lets adapters whose side inputs are stored
        per image, such as SPSAGAN's user-supplied segmentation maps, find them by name."""
        self.current_image = (image_name, lr.shape[:2])
        spec = self.input_spec
        if lr.ndim == 2:
            lr = lr[:, :, None]
        gray = lr.shape[2] == 1
        out_hw = (lr.shape[0] * scale, lr.shape[1] * scale)
        if spec.channels == "y":
            ycc = lr.astype(np.float64) if gray else matlab.rgb2ycbcr(lr).astype(np.float64)
            y8 = self.y_network(ycc[:, :, :1] / 255.0, scale)
            if gray:
                return SROutput(pixels=y8[:, :, None], native_y=y8.astype(np.float64))
            chroma = matlab.imresize(matlab.rgb2ycbcr(lr)[:, :, 1:], output_shape=out_hw)
            rgb = matlab.ycbcr2rgb(np.concatenate([y8[:, :, None], chroma], axis=2))
            return SROutput(pixels=rgb, native_y=y8.astype(np.float64))
        if spec.channels != "rgb":
            raise ValueError(f"{self.name}: unknown input channels '{spec.channels}'")
        rgb_lr = np.repeat(lr, 3, axis=2) if gray else lr
        x = rgb_lr.astype(np.float64) / 255.0
        if spec.pre_upsample:
            x = matlab.imresize(x, output_shape=out_hw)
        out = self.run_network(x * spec.value_range, scale) / spec.value_range
        pixels = matlab.im2uint8(out)
        if gray:
            # Back to the grey scale of the input: invert Y = 16 + 219/255 g for a neutral pixel.
            y = matlab.rgb2y(pixels)
            pixels = matlab.to_uint8((y - 16.0) * 255.0 / 219.0)[:, :, None]
        return SROutput(pixels=pixels)

    def y_network(self, y_lr: np.ndarray, scale: int) -> np.ndarray:
        """HxWx1 float64 LR luminance in [0, 1] -> uint8 HxW SR luminance: the network's output, rounded once."""
        spec = self.input_spec
        out_hw = (y_lr.shape[0] * scale, y_lr.shape[1] * scale)
        y_in = matlab.imresize(y_lr, output_shape=out_hw) if spec.pre_upsample else y_lr
        y_sr = self.run_network(y_in * spec.value_range, scale)[:, :, 0] / spec.value_range
        return matlab.im2uint8(y_sr)

    # ---- the double-precision YCbCr pipeline of the SRCNN/VDSR/LapSRN test scripts (`--protocol srcnn`)
    def accepts_double_ycbcr(self) -> bool:
        """Whether this method can take an unquantised double YCbCr LR image: Y-channel networks can."""
        return self.input_spec.channels == "y"

    def check_protocol(self, protocol) -> None:
        """Unavailable (with the reason) when this method cannot take the LR input `protocol` prescribes."""
        if getattr(protocol, "lr_input", "uint8") == "ycbcr-double" and not self.accepts_double_ycbcr():
            raise Unavailable(f"{self.name}: the {protocol.name} protocol feeds the unquantised double Y channel "
                              f"to Y-channel methods; this method takes {self.input_spec.channels.upper()} input")

    def super_resolve_ycbcr(self, lr_ycc: np.ndarray, scale: int, image_name: str | None = None) -> SROutput:
        """Double YCbCr LR in [0, 1] (HxWx3, HxWx1 for a grey image; never quantised) -> SROutput.

        The network sees the LR luminance as it is and its output is rounded once, as in SRCNN's
        demo_SR.m / VDSR's and LapSRN's test scripts; Cb and Cr (not scored by those scripts) are
        MATLAB-bicubic upscaled in double and rounded once."""
        self.check_scale(scale)
        if not self.accepts_double_ycbcr():
            raise Unavailable(f"{self.name}: takes {self.input_spec.channels.upper()} input, not a double Y channel")
        self.current_image = (image_name, lr_ycc.shape[:2])
        return ycbcr_output(self.y_network(lr_ycc[:, :, :1], scale), lr_ycc, scale)


def ycbcr_output(y8: np.ndarray, lr_ycc: np.ndarray, scale: int) -> SROutput:
    """SROutput from an SR luminance (uint8 HxW) and the double YCbCr LR whose chroma is upscaled."""
    if lr_ycc.shape[2] == 1:
        return SROutput(pixels=y8[:, :, None], native_y=y8.astype(np.float64))
    chroma = matlab.im2uint8(matlab.imresize(lr_ycc[:, :, 1:], scale))
    rgb = matlab.ycbcr2rgb(np.concatenate([y8[:, :, None], chroma], axis=2))
    return SROutput(pixels=rgb, native_y=y8.astype(np.float64))


def load_state_dict(path, map_location: str = "cpu") -> dict:
    """Load a checkpoint with `weights_only=True`; a file that needs arbitrary unpickling is refused."""
    import pickle

    import torch

    from ..errors import AssetError

    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise AssetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    # torch files are zip archives (PK..) or, before torch 1.6, pickles (protocol byte 0x80 first)
    if head[:2] != b"PK" and head[:1] != b"\x80":
        what = "an empty file" if not head else "neither a zip-format torch file nor a pickle"
        raise AssetError(f"{path}: not a PyTorch checkpoint ({what})")
    try:
        obj = torch.load(str(path), map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AssetError(f"{path}: refused, not a plain state_dict loadable with weights_only=True "
                         f"(it would need unpickling arbitrary objects: {first[:160]})") from None
    except MemoryError:
        raise AssetError(f"{path}: cannot load as a PyTorch checkpoint (out of memory)") from None
    except Exception as exc:  # EOFError, IndexError, zip errors ...: torch's reader on a file that is no checkpoint
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise AssetError(f"{path}: not a PyTorch checkpoint ({type(exc).__name__}{': ' + first[:160] if first else ''})"
                         ) from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise AssetError(f"{path}: refused, expected a state_dict, found {type(obj).__name__}")
    return obj
