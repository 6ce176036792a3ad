"""Fetch dataset archives and unpack them safely.

`fetch_archive` downloads through `srbench.assets.download` (temp file, sha256 check, rename), so a killed
download never leaves a half-written archive. `iter_archive_files` reads zip, tar and tar.gz archives and
refuses, before anything is written, an archive holding a member that would land outside the target folder
(absolute path, `..`, drive letter) or a link/device member: a dataset archive needs none of these, and
honouring them lets a hostile archive overwrite files elsewhere. `safe_extract` streams the selected members
into a fresh temp folder that is renamed into place only after everything succeeded; no member is ever held
in memory whole, and a member larger than `max_member` bytes, or members adding up to more than `max_total`,
are refused while streaming (a zip bomb stops at the cap, whatever sizes its headers claim).

`sweep_download_temps` removes the temp folders and files of killed downloads and extractions (they carry
the dead writer's process id, see `srbench.atomic`); it runs before every download and on `srbench cache
clear`.
"""
from __future__ import annotations

import io  # noqa: F401 (annotations)
import os
import re
from zlib import error as zlib_error
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from .assets import cache_root, download
from .atomic import sweep_partials
from .errors import AssetError

ARCHIVE_FORMATS = ("zip", "tar", "tar.gz")
# Caps on what extraction writes. The largest image of the datasets srbench knows is a DIV2K PNG of about
# 6 MB; 256 MB per member and 16 GB per archive leave ample room while stopping a decompression bomb.
MAX_MEMBER_BYTES = 256 << 20
MAX_ARCHIVE_BYTES = 16 << 30
DOWNLOAD_SUBDIRS = ("datasets", "downloads", "weights", "iqa-params")
_CHUNK = 1 << 20


def sweep_download_temps() -> list[Path]:
    """Remove what killed downloads/extractions left under the cache (only srbench's own temp names)."""
    removed: list[Path] = []
    for sub in DOWNLOAD_SUBDIRS:
        removed += sweep_partials(cache_root() / sub)
    return removed


def archive_format(name: str) -> str:
    """The archive format implied by a file name or URL ('zip', 'tar' or 'tar.gz')."""
    lower = name.lower().split("?", 1)[0]
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if lower.endswith(".tar"):
        return "tar"
    raise AssetError(f"{name}: unknown archive format (expected .zip, .tar or .tar.gz)")


def fetch_archive(url: str, dest: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download `url` to `dest` (verified against `sha256` when recorded) unless a verified copy is there."""
    if dest.is_file():
        from .assets import verify_sha256

        try:
            verify_sha256(dest, sha256)
            return dest
        except AssetError:
            dest.unlink()  # a stale or corrupt earlier download: fetch it again
    return download(url, dest, sha256, timeout=timeout)


def check_member_name(archive: Path, name: str) -> PurePosixPath:
    """The member's relative path; AssetError when it would escape the extraction folder."""
    posix = name.replace("\\", "/")
    path = PurePosixPath(posix)
    if (not posix or posix.startswith("/") or re.match(r"^[A-Za-z]:", posix)
            or any(part == ".." for part in path.parts)):
        raise AssetError(f"{archive}: refusing archive member '{name}' (its path escapes the target folder)")
    return path


def iter_archive_files(archive: Path, fmt: str | None = None) -> Iterator[tuple[PurePosixPath, Callable[[], "io.BufferedIOBase"]]]:
    """Yield (relative path, opener) for every regular file; every member name is checked first.

    `opener()` returns a binary stream of the member's bytes, to be read in chunks (see `copy_capped`)."""
    fmt = fmt or archive_format(archive.name)
    try:
        if fmt == "zip":
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    check_member_name(archive, info.filename)
                    # The high 16 bits of external_attr hold the Unix mode; 0o120000 marks a symlink.
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise AssetError(f"{archive}: refusing archive member '{info.filename}' (a symbolic link)")
                for info in infos:
                    if not info.is_dir():
                        yield PurePosixPath(info.filename.replace("\\", "/")), (lambda i=info: zf.open(i))
        elif fmt in ("tar", "tar.gz"):
            with tarfile.open(archive, "r:gz" if fmt == "tar.gz" else "r:") as tf:
                members = tf.getmembers()
                for member in members:
                    check_member_name(archive, member.name)
                    if not (member.isfile() or member.isdir()):
                        raise AssetError(f"{archive}: refusing archive member '{member.name}' "
                                         f"(a link or special file)")
                for member in members:
                    if member.isfile():
                        yield PurePosixPath(member.name), (lambda m=member: tf.extractfile(m))
        else:
            raise AssetError(f"{archive}: unknown archive format '{fmt}' (expected one of {ARCHIVE_FORMATS})")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, OSError, zlib_error) as exc:
        raise AssetError(f"{archive}: corrupt or unreadable archive ({exc})") from None


def copy_capped(src, dest: Path, cap: int, what: str) -> tuple[int, str]:
    """Stream `src` into the new file `dest`, at most `cap` bytes; (size, sha256). AssetError past the cap."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(dest, "xb") as out:
        while True:
            block = src.read(min(_CHUNK, cap - size + 1))
            if not block:
                break
            size += len(block)
            if size > cap:
                raise AssetError(f"{what}: larger than the {cap} bytes allowed, refused (a decompression bomb?)")
            digest.update(block)
            out.write(block)
    return size, digest.hexdigest()


def temp_dir_beside(dest: Path) -> Path:
    """A fresh hidden folder next to `dest`, for building something that is then renamed onto `dest`.

    Named `.<dest>.<pid>.<random>.part`, the convention `srbench.atomic.sweep_partials` uses to clear what a
    killed process left. mkdtemp makes it owner-only (0700); it gets the umask's usual permissions so that the
    renamed folder looks like any other folder the user created.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.{os.getpid()}.", suffix=".part"))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


def safe_extract(archive: Path, target: Path, select: Callable[[PurePosixPath], bool] | None = None,
                 fmt: str | None = None, max_member: int = MAX_MEMBER_BYTES,
                 max_total: int = MAX_ARCHIVE_BYTES, digests: dict[Path, str] | None = None) -> list[Path]:
    """Extract the selected regular files of `archive` into the new folder `target` (all or nothing).

    Members are streamed to disk under the size caps; `digests`, when given, receives the sha256 of every
    written file's bytes (computed while streaming, before anything decodes them)."""
    if target.exists():
        raise AssetError(f"{target}: already exists, refusing to extract over it")
    tmp = temp_dir_beside(target)
    try:
        written = []
        total = 0
        for rel, opener in iter_archive_files(archive, fmt):
            if select is not None and not select(rel):
                continue
            out = tmp.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            what = f"{archive}: member '{rel}'"
            try:
                with opener() as src:
                    size, sha = copy_capped(src, out, min(max_member, max_total - total), what)
            except AssetError:
                raise
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib_error) as exc:
                raise AssetError(f"{what}: corrupt or unreadable ({exc})") from None
            except OSError as exc:
                raise AssetError(f"{what}: cannot extract to {out} ({exc.strerror or exc})") from None
            total += size
            final = target.joinpath(*rel.parts)
            written.append(final)
            if digests is not None:
                digests[final] = sha
        os.replace(tmp, target)
        return written
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
