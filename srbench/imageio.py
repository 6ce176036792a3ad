"""Reading and writing images with validation.

Every image enters srbench through `read_image`, which returns uint8 HxWxC with C = 1 (grayscale) or 3 (RGB)
or raises a `UserError` whose one-line message names the file and the problem.

Conversions (documented policy):
- Images with more than 8 bits per sample are refused, grayscale and colour alike (16-bit PNG/TIFF/PPM,
  float TIFF): rescaling them to 8 bits would change the numbers a paper's MATLAB script reports on the
  original file (`imread` keeps them uint16), and the SR test sets are all 8-bit. Pillow reads a 16-bit
  RGB PNG as 8-bit RGB by keeping the high byte, so the bit depth is checked before decoding.
- Images larger than Pillow's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`) are refused before
  decoding, naming the file and the size.
- Palette ("P") images are expanded to RGB (their colours are exact 8-bit values).
- An alpha channel is refused unless it is fully opaque, in which case it is dropped (nothing is lost).
- Grayscale stays single-channel: evaluation then uses the grey values as Y, as the MATLAB scripts do.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .atomic import atomic_write
from .errors import UserError

SUPPORTED_SUFFIXES = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".pgm"}


def read_image(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected an image")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UserError(f"{path}: unsupported image format '{path.suffix}' "
                        f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    data = path.read_bytes()
    if not data:
        raise UserError(f"{path}: empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            _check_bit_depth(img, data, path)  # before load(): decoding drops the low byte of 16-bit RGB
            img.load()
            return _to_uint8_array(img, path)
    except UserError:
        raise
    except UnidentifiedImageError:
        raise UserError(f"{path}: unreadable image (not a recognised image format)") from None
    except Image.DecompressionBombError as exc:
        raise UserError(f"{path}: refused, too many pixels for a safe decode ({exc})") from None
    except MemoryError:
        raise UserError(f"{path}: image too large to decode in the available memory") from None
    except Exception as exc:  # any decoder failure (OSError, SyntaxError, struct.error ...) is a bad file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable or truncated image ({reason})") from None


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _sample_bits(img: Image.Image, data: bytes) -> int:
    """Bits per sample as stored in the file (Pillow's mode does not show it for 16-bit colour)."""
    if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) > 24:
        return data[24]  # IHDR: width(4) height(4) bit depth(1) ...
    bits = 8
    tag = getattr(img, "tag_v2", None)
    if tag is not None:
        per_sample = tag.get(258)  # TIFF BitsPerSample
        if per_sample:
            bits = max(per_sample) if isinstance(per_sample, tuple) else int(per_sample)
    for tile in getattr(img, "tile", None) or []:
        args = tile[3] if len(tile) > 3 else None
        for arg in args if isinstance(args, tuple) else (args,):
            if isinstance(arg, str) and (";16" in arg or ";32" in arg):
                bits = max(bits, 16)
            elif isinstance(arg, int) and arg > 255 and tile[0].startswith("ppm"):
                bits = max(bits, 16)  # PPM/PGM maxval above 255
    return max(bits, int(img.info.get("bits", 8) or 8))


def _check_bit_depth(img: Image.Image, data: bytes, path: Path) -> None:
    bits = _sample_bits(img, data)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F") or bits > 8:
        raise UserError(f"{path}: {img.mode} image with {bits if bits > 8 else 'more than 8'} bits per sample "
                        f"is not supported (convert it to 8-bit first; srbench does not rescale bit depths "
                        f"silently)")


def _to_uint8_array(img: Image.Image, path: Path) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F") or img.info.get("bits", 8) > 8:
        raise UserError(f"{path}: {mode} image with more than 8 bits per sample is not supported "
                        f"(convert it to 8-bit first; srbench does not rescale bit depths silently)")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode == "1":
        img = img.convert("L")
        mode = "L"
    if mode in ("RGBA", "LA"):
        alpha = np.asarray(img.getchannel("A"))
        if alpha.min() < 255:
            raise UserError(f"{path}: image has a non-opaque alpha channel (remove transparency first)")
        img = img.convert("RGB" if mode == "RGBA" else "L")
        mode = img.mode
    if mode == "CMYK" or mode == "YCbCr":
        img = img.convert("RGB")
        mode = "RGB"
    if mode not in ("L", "RGB"):
        raise UserError(f"{path}: unsupported pixel mode '{mode}'")
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise UserError(f"{path}: image has no pixels")
    return np.ascontiguousarray(arr)


def encode_png(arr: np.ndarray) -> bytes:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def write_png_atomic(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Write a PNG through a temp file + rename, so a kill never leaves a half-written image."""
    atomic_write(Path(path), encode_png(arr))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    atomic_write(Path(path), text.encode("utf-8"))
