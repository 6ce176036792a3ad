"""Resolve external files (datasets, weights, IQA model parameters) and verify them.

Order: explicit path -> `$SRBENCH_SHARED/<shared_subpath>` -> user cache -> download from the canonical
URL(s). Every file with a recorded sha256 is verified; downloads land in a temp file and are renamed
into place only after verification, so a killed download never leaves a half-written asset.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import mkstemp_beside
from .errors import AssetError, ChecksumError


def shared_root() -> Path | None:
    value = os.environ.get("SRBENCH_SHARED")
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    value = os.environ.get("SRBENCH_CACHE")
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "srbench"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None) -> None:
    if not expected:
        return
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumError(f"{path}: checksum mismatch (sha256 {actual[:16]}..., expected {expected[:16]}...)")


def download(url: str, dest: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download `url` to `dest` via a temp file; verify before the rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = mkstemp_beside(dest)  # the umask's permissions, as every file srbench writes
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        verify_sha256(Path(tmp), sha256)
        os.replace(tmp, dest)
    except ChecksumError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ChecksumError(f"{url}: checksum mismatch of the downloaded file") from exc
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AssetError(f"{url}: download failed ({exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


@dataclass
class Asset:
    """One external file.

    name: cache file name (under `cache_root()/<kind>/`); shared_subpath: path below $SRBENCH_SHARED;
    urls: canonical download URLs tried in order; sha256: expected digest (None = not recorded).
    """

    name: str
    kind: str
    sha256: str | None = None
    shared_subpath: str | None = None
    urls: list[str] = field(default_factory=list)

    def candidates(self, explicit: str | os.PathLike | None = None) -> list[Path]:
        paths = []
        if explicit:
            paths.append(Path(explicit).expanduser())
        root = shared_root()
        if root and self.shared_subpath:
            paths.append(root / self.shared_subpath)
        paths.append(cache_root() / self.kind / self.name)
        return paths

    def resolve(self, explicit: str | os.PathLike | None = None, allow_download: bool = True) -> Path:
        """Return a verified local path, downloading into the cache if needed; AssetError if impossible."""
        if explicit and not Path(explicit).expanduser().is_file():
            raise AssetError(f"{explicit}: no such file")
        for path in self.candidates(explicit):
            if path.is_file():
                verify_sha256(path, self.sha256)
                return path
        if allow_download and self.urls and os.environ.get("SRBENCH_OFFLINE") != "1":
            dest = cache_root() / self.kind / self.name
            errors = []
            for url in self.urls:
                try:
                    return download(url, dest, self.sha256)
                except AssetError as exc:
                    errors.append(str(exc))
            raise AssetError(f"{self.name}: not found locally and every download failed: {'; '.join(errors)}")
        where = ", ".join(str(p) for p in self.candidates(explicit))
        raise AssetError(f"{self.name}: not found (looked in {where}; no download possible)")
