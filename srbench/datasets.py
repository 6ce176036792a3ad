"""Dataset registry: manifests in `datasets/<Name>.yaml`, resolution to verified local HR images.

Resolution order for a named dataset (layout `<folder>/HR/<image>.<ext>`, folder = the dataset name):
  1. `data_root` argument (the CLI's `--data-root`), else `$SRBENCH_DATA`;
  2. the user cache, `cache_root()/datasets`;
  3. download of the manifest's sources into the cache (unless `SRBENCH_OFFLINE=1`).
The embedded `default` dataset is built from scikit-image's own files instead (see `srbench.embedded`).

Checksums: a manifest records, per image, the sha256 of the file and the sha256 of its decoded pixels
(`pixel_sha256`). A file whose bytes differ but whose pixels match is accepted: a lossless re-encoding
(BMP -> PNG after a download, another PNG encoder) gives the same numbers, which is what matters for a
benchmark. Manifests without recorded checksums (`checksums: not-recorded`) are checked by image count
only, with a warning when it differs.

Downloads are verified before anything is decoded. A source is fetched over https only (plain http only
from the loopback host, for tests). Each selected archive member is streamed to disk with size caps and its
bytes' sha256 is compared, before any image decoder sees it, with (in this order) the source's own
`members: {image: sha256}` digests, or the manifest's file checksum of that image (an archive holding the
very file recorded). A member whose bytes match neither is refused unless the archive itself matched a
recorded `sha256`. A source whose members cannot be checked this way (no archive digest, no member digests,
e.g. because only re-encoded copies were available to record from) is not decoded at all unless the user
sets `SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS=1`; its images are then still checked by their pixel checksums
after decoding, where recorded. `srbench list datasets` says, per dataset, which of these applies.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import yaml

from .assets import cache_root, sha256_file
from .bundled import bundled_dir
from .errors import AssetError, ChecksumError, UserError
from .imageio import SUPPORTED_SUFFIXES, encode_png, read_image
from .registry import Registry

MANIFEST_DIR = bundled_dir("datasets")  # repository folder, or the copy inside an installed package
NOT_RECORDED = "not-recorded"
KINDS = ("test", "train")
CROPS = ("left-half",)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DatasetImage:
    name: str  # file stem, used as the image name in result tables
    path: Path
    sha256: str | None  # sha256 of the file as used (always set for resolved datasets)


@dataclass
class Dataset:
    name: str
    root: Path  # the folder holding the HR images
    images: list[DatasetImage]
    kind: str = "test"
    description: str = ""
    checksums_recorded: bool = True


@dataclass(frozen=True)
class ImageChecksum:
    sha256: str  # of the file bytes
    pixels: str  # of the decoded pixels, see `pixel_sha256`


@dataclass(frozen=True)
class Source:
    """One downloadable archive; `member` is a regex on member paths whose group `name` gives the image name."""

    url: str
    format: str
    member: re.Pattern
    sha256: str | None = None
    crop: str | None = None  # 'left-half': the HR photo is the left half of each file (pix2pix layout)
    members: dict[str, str] = field(default_factory=dict)  # image name -> sha256 of the member's bytes


@dataclass
class Manifest:
    name: str
    kind: str
    description: str
    image_count: int
    path: Path
    folder: str = ""
    homepage: str = ""
    checksums: dict[str, ImageChecksum] | None = None  # None = not recorded
    sources: list[Source] = field(default_factory=list)


def pixel_sha256(pixels: np.ndarray) -> str:
    """sha256 of decoded uint8 pixels, shape included, so that re-encodings of one image hash alike."""
    arr = np.ascontiguousarray(pixels, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    header = "x".join(str(n) for n in arr.shape).encode() + b":uint8\n"
    return hashlib.sha256(header + arr.tobytes()).hexdigest()


# --------------------------------------------------------------------------------------------- manifests

def _fail(path: Path, what: str) -> UserError:
    return UserError(f"{path}: malformed dataset manifest ({what})")


def _safe_name(path: Path, value, what: str) -> str:
    """A single path component: no separators, no `..`, so it can never escape the data root."""
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise _fail(path, f"{what} {value!r} is not a plain name; paths such as '../x' are not allowed")
    return value


def _parse_checksums(path: Path, raw) -> dict[str, ImageChecksum] | None:
    if raw == NOT_RECORDED:
        return None
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, f"'checksums' must be a mapping image -> {{sha256, pixels}} or '{NOT_RECORDED}'")
    out = {}
    for image, entry in raw.items():
        _safe_name(path, image, "image name")
        if not isinstance(entry, dict) or set(entry) != {"sha256", "pixels"}:
            raise _fail(path, f"checksums of '{image}' must have exactly the keys sha256 and pixels")
        values = [entry["sha256"], entry["pixels"]]
        # Non-strings are refused rather than str()-ed: YAML reads an all-digit digest as an integer.
        if not all(isinstance(v, str) and _HEX64.match(v.lower()) for v in values):
            raise _fail(path, f"checksums of '{image}' are not 64-digit hex sha256 values")
        out[image] = ImageChecksum(*(v.lower() for v in values))
    return out


def _parse_source(path: Path, raw) -> Source:
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str) or not isinstance(raw.get("member"), str):
        raise _fail(path, "each source needs 'url' and 'member'")
    url = raw["url"]
    if not url.startswith("https://") and not _loopback_http(url):
        raise _fail(path, f"source url {url!r} is not https (plain http can be altered in transit)")
    fmt = raw.get("format")
    if fmt not in ("zip", "tar", "tar.gz"):
        raise _fail(path, f"source format {fmt!r} is not zip, tar or tar.gz")
    try:
        member = re.compile(raw["member"])
    except re.error as exc:
        raise _fail(path, f"member pattern {raw['member']!r} is not a regex: {exc}") from None
    if "name" not in member.groupindex:
        raise _fail(path, f"member pattern {raw['member']!r} has no (?P<name>...) group")
    sha = raw.get("sha256", NOT_RECORDED)
    if sha != NOT_RECORDED and not (isinstance(sha, str) and _HEX64.match(sha.lower())):
        raise _fail(path, f"source sha256 {sha!r} is neither a sha256 nor '{NOT_RECORDED}'")
    crop = raw.get("crop")
    if crop is not None and crop not in CROPS:
        raise _fail(path, f"source crop {crop!r} is not one of {CROPS}")
    members = raw.get("members") or {}
    if not isinstance(members, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _HEX64.match(v.lower()) for k, v in members.items()):
        raise _fail(path, "source 'members' must map image names to 64-digit hex sha256 values")
    for image in members:
        _safe_name(path, image, "image name")
    return Source(url, fmt, member, None if sha == NOT_RECORDED else sha.lower(), crop,
                  {k: v.lower() for k, v in members.items()})


def _loopback_http(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def load_manifest(path: Path) -> Manifest:
    """Parse and validate one manifest file; any problem -> UserError naming the file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read dataset manifest ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise _fail(path, f"invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise _fail(path, "expected a mapping at the top level")
    missing = [k for k in ("name", "kind", "description", "image_count", "checksums") if k not in raw]
    if missing:
        raise _fail(path, f"missing key(s) {', '.join(missing)}")
    name = _safe_name(path, raw["name"], "name")
    if name != path.stem:
        raise _fail(path, f"name {name!r} differs from the file name")
    if raw["kind"] not in KINDS:
        raise _fail(path, f"kind {raw['kind']!r} is not one of {KINDS}")
    count = raw["image_count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _fail(path, f"image_count {count!r} is not a positive integer")
    checksums = _parse_checksums(path, raw["checksums"])
    if checksums is not None and len(checksums) != count:
        raise _fail(path, f"image_count {count} but {len(checksums)} checksums")
    sources = raw.get("sources") or []
    if not isinstance(sources, list):
        raise _fail(path, "'sources' must be a list")
    return Manifest(
        name=name, kind=raw["kind"], description=str(raw["description"]).strip(), image_count=count, path=path,
        folder=_safe_name(path, raw.get("folder", name), "folder"), homepage=str(raw.get("homepage", "")),
        checksums=checksums, sources=[_parse_source(path, s) for s in sources],
    )


# ------------------------------------------------------------------------------------------ verification

def _image_files(hr_dir: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in sorted(hr_dir.iterdir()):
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith("."):
            if p.stem in files:
                raise UserError(f"{hr_dir}: two files for image '{p.stem}' ({files[p.stem].name}, {p.name})")
            files[p.stem] = p
    return files


def verify_images(manifest: Manifest, hr_dir: Path) -> list[DatasetImage]:
    """The dataset's images in `hr_dir`, each checked against the manifest; ChecksumError names a bad file."""
    files = _image_files(hr_dir)
    if not files:
        raise AssetError(f"{hr_dir}: no images of dataset {manifest.name} there")
    if manifest.checksums is None:
        if len(files) != manifest.image_count:
            warnings.warn(f"{hr_dir}: {len(files)} images, the manifest of {manifest.name} expects "
                          f"{manifest.image_count} (checksums not recorded, so the copy is unverified)")
        return [DatasetImage(n, p, sha256_file(p)) for n, p in files.items()]
    missing = sorted(set(manifest.checksums) - set(files))
    if missing:
        raise AssetError(f"{hr_dir}: {len(missing)} image(s) of {manifest.name} missing "
                         f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})")
    extra = sorted(set(files) - set(manifest.checksums))
    if extra:
        warnings.warn(f"{hr_dir}: ignoring {len(extra)} file(s) not in the {manifest.name} manifest "
                      f"({', '.join(extra[:5])})")
    images = []
    for name in sorted(manifest.checksums):
        path, expected = files[name], manifest.checksums[name]
        actual = sha256_file(path)
        if actual != expected.sha256 and pixel_sha256(read_image(path)) != expected.pixels:
            raise ChecksumError(f"{path}: checksum mismatch for image '{name}' of {manifest.name} "
                                f"(neither its bytes nor its pixels match {manifest.path.name})")
        images.append(DatasetImage(name, path, actual))
    return images


# ------------------------------------------------------------------------------------------- download

def _decode_member(path: Path) -> np.ndarray:
    """Pixels of an archive image. A grey-palette image stays single-channel: its grey levels are the pixel
    values, and read_image would expand the palette to three equal channels (which evaluates differently)."""
    from PIL import Image

    arr = read_image(path)
    if arr.shape[2] == 3:
        with Image.open(path) as img:
            grey_palette = img.mode == "P"
        if grey_palette and (arr[:, :, 0] == arr[:, :, 1]).all() and (arr[:, :, 0] == arr[:, :, 2]).all():
            arr = arr[:, :, :1]
    return arr


def _install_hr(source: Source, raw_files: dict[str, Path], hr_dir: Path) -> None:
    hr_dir.mkdir(parents=True)
    for name, src in raw_files.items():
        out = hr_dir / f"{name}.png"
        arr = _decode_member(src)
        if source.crop == "left-half":
            arr = arr[:, : arr.shape[1] // 2]
        elif src.suffix.lower() == ".png" and np.array_equal(arr, read_image(src)):
            shutil.copyfile(src, out)  # keep the bytes: a byte-identical copy keeps its file sha256
            continue
        out.write_bytes(encode_png(arr))


ALLOW_UNVERIFIED_ENV = "SRBENCH_ALLOW_UNVERIFIED_DOWNLOADS"


def source_verification(manifest: Manifest, source: Source) -> str:
    """How a source's members are verified before decoding: 'archive', 'members' or 'none'.

    'members' needs a digest for every image: the source's `members`, else the manifest's file checksums
    (which only match an archive that holds the very files recorded; a mismatch is then refused)."""
    if source.sha256:
        return "archive"
    if source.members or manifest.checksums is not None:
        return "members"
    return "none"


def _check_members(manifest: Manifest, source: Source, archive: Path, raw_files: dict[str, Path],
                   digests: dict[Path, str], rels: dict[str, str]) -> None:
    """Refuse, before any decoding, a member whose bytes match no recorded digest (see the module doc)."""
    if source.sha256:
        return  # the archive's bytes matched its recorded digest: every member is what was recorded
    allow = os.environ.get(ALLOW_UNVERIFIED_ENV) == "1"
    unverified = []
    for name, path in raw_files.items():
        expected = source.members.get(name)
        if expected is None and manifest.checksums is not None and name in manifest.checksums:
            expected = manifest.checksums[name].sha256
        if expected is not None and digests[path] == expected:
            continue
        if allow and not source.members:
            unverified.append(name)
            continue
        what = f"{archive}: member '{rels[name]}' (image '{name}')"
        hint = "" if source.members else f" (set {ALLOW_UNVERIFIED_ENV}=1 to decode it unverified" + (
            ", then compare its pixels with the recorded ones)" if manifest.checksums is not None else ")")
        if expected is None:
            raise ChecksumError(f"{what}: no sha256 recorded for it in {manifest.path.name}; not decoded{hint}")
        raise ChecksumError(f"{what}: checksum mismatch (sha256 {digests[path][:16]}..., {manifest.path.name} "
                            f"records {expected[:16]}...); not decoded{hint}")
    if unverified:
        warnings.warn(f"{manifest.name}: decoding {len(unverified)} member(s) of {archive.name} whose bytes are "
                      f"not recorded ({ALLOW_UNVERIFIED_ENV}=1)")


def _download_from(manifest: Manifest, source: Source, dest: Path) -> list[DatasetImage]:
    from .download import fetch_archive, safe_extract, temp_dir_beside

    archive_name = PurePosixPath(source.url.split("?", 1)[0]).name or f"{manifest.name}.{source.format}"
    archive = cache_root() / "downloads" / manifest.name / archive_name
    fetch_archive(source.url, archive, source.sha256)
    work = temp_dir_beside(dest)
    try:
        digests: dict[Path, str] = {}
        extracted = safe_extract(archive, work / "raw", lambda rel: bool(source.member.search(str(rel))),
                                 source.format, digests=digests)
        raw_files: dict[str, Path] = {}
        rels: dict[str, str] = {}
        for path in extracted:
            rel = str(PurePosixPath(*path.relative_to(work / "raw").parts))
            name = source.member.search(rel).group("name")
            if not _NAME_RE.match(name) or name in raw_files:
                raise AssetError(f"{archive}: member '{rel}' gives a bad or duplicate image name '{name}'")
            raw_files[name], rels[name] = path, rel
        if not raw_files:
            raise AssetError(f"{archive}: no member matches '{source.member.pattern}'")
        _check_members(manifest, source, archive, raw_files, digests, rels)
        _install_hr(source, raw_files, work / "final" / "HR")
        shutil.rmtree(work / "raw")
        verify_images(manifest, work / "final" / "HR")
        if not (dest / "HR").is_dir():  # else another process installed it meanwhile: keep theirs
            try:
                os.replace(work / "final", dest)
            except OSError as exc:
                raise AssetError(f"{dest}: cannot install the downloaded images there ({exc.strerror})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        # Installed, or unusable (a retry must fetch it again rather than fail on the same bytes).
        archive.unlink(missing_ok=True)
    return verify_images(manifest, dest / "HR")


def download_dataset(manifest: Manifest, looked: list[Path] = ()) -> list[DatasetImage]:
    """Fetch, unpack and verify into the cache; every source is tried in order."""
    dest = cache_root() / "datasets" / manifest.folder
    where = f"no {', '.join(str(p) for p in looked)}" if looked else "not found locally"
    hint = f"; get it from {manifest.homepage} into <data-root>/{manifest.folder}/HR/" if manifest.homepage else ""
    if not manifest.sources:
        raise AssetError(f"{manifest.name}: {where}, and it cannot be downloaded automatically{hint}")
    if os.environ.get("SRBENCH_OFFLINE") == "1":
        raise AssetError(f"{manifest.name}: {where}, and SRBENCH_OFFLINE=1 forbids the download{hint}")
    from .download import sweep_download_temps

    sweep_download_temps()  # what killed earlier downloads left
    errors: list[AssetError] = []
    for source in manifest.sources:
        try:
            return _download_from(manifest, source, dest)
        except AssetError as exc:
            errors.append(exc)
    kind = ChecksumError if any(isinstance(e, ChecksumError) for e in errors) else AssetError
    raise kind(f"{manifest.name}: every download failed: " + "; ".join(str(e) for e in errors))


# ---------------------------------------------------------------------------------------------- registry

DATASETS: Registry = Registry("dataset")
DEFAULT = "default"


def manifest_path(name: str) -> Path:
    DATASETS.factory(name)  # unknown name -> UserError with a did-you-mean hint
    return MANIFEST_DIR / f"{name}.yaml"


def _register_all() -> None:
    DATASETS.register(DEFAULT, lambda data_root=None: resolve_dataset(DEFAULT, data_root))
    if MANIFEST_DIR.is_dir():
        for path in sorted(MANIFEST_DIR.glob("*.yaml")):
            DATASETS.register(path.stem, lambda data_root=None, n=path.stem: resolve_dataset(n, data_root))


def data_roots(data_root: str | os.PathLike | None = None) -> list[Path]:
    explicit = data_root if data_root is not None else os.environ.get("SRBENCH_DATA")
    roots = [Path(explicit).expanduser()] if explicit else []
    return roots + [cache_root() / "datasets"]


def resolve_dataset(name: str, data_root: str | os.PathLike | None = None) -> Dataset:
    """A named dataset as verified local files (see the module docstring for the order)."""
    if name == DEFAULT:
        from .embedded import resolve_default

        return resolve_default()
    if name not in DATASETS:
        user = _user_dataset(name, data_roots(data_root))
        if user is not None:
            return user
    manifest = load_manifest(manifest_path(name))
    looked = [root / manifest.folder / "HR" for root in data_roots(data_root)]
    found = next((hr for hr in looked if hr.is_dir()), None)
    if found is None and manifest.name == "Facades":   # built from CMP's original photos (srbench/facades.py)
        from .facades import derived_hr

        found = derived_hr(data_roots(data_root))
    if found is not None:
        images = verify_images(manifest, found)  # a bad copy is an error, not a reason to look elsewhere
    else:
        images = download_dataset(manifest, looked)
        found = cache_root() / "datasets" / manifest.folder / "HR"
    return Dataset(manifest.name, found, images, manifest.kind, manifest.description,
                   manifest.checksums is not None)


def check_dataset_name(name: str, data_root: str | os.PathLike | None = None) -> None:
    """UserError with a did-you-mean hint unless `name` is registered or a user folder `<root>/<name>/HR`."""
    if name in DATASETS or (_NAME_RE.match(name)
                            and any((root / name / "HR").is_dir() for root in data_roots(data_root))):
        return
    DATASETS.factory(name)


def _user_dataset(name: str, roots: list[Path]) -> Dataset | None:
    """A folder `<root>/<name>/HR` without a manifest: a user's own images, hashed as found."""
    if not _NAME_RE.match(name):
        return None
    hr = next((root / name / "HR" for root in roots if (root / name / "HR").is_dir()), None)
    if hr is None:
        return None
    files = _image_files(hr)
    if not files:
        raise UserError(f"{hr}: no images ({', '.join(sorted(SUPPORTED_SUFFIXES))}) in this folder")
    warnings.warn(f"dataset {name}: no manifest, using the {len(files)} images of {hr} unverified", stacklevel=2)
    images = [DatasetImage(stem, path, sha256_file(path)) for stem, path in sorted(files.items())]
    return Dataset(name, hr, images, "test", f"user dataset at {hr}", checksums_recorded=False)


def list_datasets() -> list[tuple[str, str, int, str]]:
    """(name, kind, image count, description) of every registered dataset."""
    from .embedded import EMBEDDED_IMAGES, DESCRIPTION

    rows = []
    for name in DATASETS.names():
        if name == DEFAULT:
            rows.append((DEFAULT, "test", len(EMBEDDED_IMAGES), DESCRIPTION))
        else:
            m = load_manifest(manifest_path(name))
            rows.append((m.name, m.kind, m.image_count, m.description))
    return rows


def verification_summary(name: str) -> str:
    """How a dataset's images are verified, locally and when downloaded (for `srbench list datasets`)."""
    if name == DEFAULT:
        return "built from scikit-image's own files; pixel sha256 of every image recorded in srbench.embedded"
    m = load_manifest(manifest_path(name))
    local = ("local copy: file or pixel sha256 of every image" if m.checksums is not None
             else "local copy: UNVERIFIED (no checksums recorded; image count only)")
    if not m.sources:
        return f"{local}; no download source"
    kinds = {source_verification(m, s) for s in m.sources}
    if kinds == {"archive"}:
        down = "download: archive sha256 checked before unpacking"
    elif "none" not in kinds and any(s.members for s in m.sources):
        down = "download: sha256 of every archive member checked before decoding"
    elif m.checksums is not None:
        down = ("download: each member's bytes must match the recorded file sha256 before decoding (the records "
                f"are of re-encoded copies: {ALLOW_UNVERIFIED_ENV}=1 decodes the originals and checks pixels)")
    else:
        down = f"download: UNVERIFIED, refused unless {ALLOW_UNVERIFIED_ENV}=1"
    return f"{local}; {down}"


def dataset_checksums(ds: Dataset) -> dict:
    """The run.json record of a resolved dataset: where it was read from and the sha256 of every image."""
    return {"root": str(ds.root), "checksums_recorded": ds.checksums_recorded,
            "images": {im.name: im.sha256 for im in ds.images}}


_register_all()
