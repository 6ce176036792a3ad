"""Where the method zoo (`methods/`) and the dataset manifests (`datasets/`) live.

In the repository (and in an editable install) they are the top-level `methods/` and `datasets/` folders
beside `srbench/`. A wheel, sdist, `--target` or git-URL install carries them inside the package as
`srbench/_bundled/methods` and `srbench/_bundled/datasets` (pyproject.toml maps them there), so no top-level
package named `methods` or `datasets` lands in site-packages. The installed copy is looked for first: in
site-packages the folder beside `srbench/` would be some other distribution's `methods` package.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
INSTALLED_ROOT = PACKAGE_ROOT / "_bundled"


def bundled_dir(name: str) -> Path:
    """`srbench/_bundled/<name>` when installed, else the repository's `<name>/` folder."""
    installed = INSTALLED_ROOT / name
    if installed.is_dir():
        return installed
    return PACKAGE_ROOT.parent / name
