"""Package layout that pyproject.toml cannot express on its own: the repository keeps the method zoo and the
dataset manifests in top-level `methods/` and `datasets/` folders (the design card's layout), and every
install (wheel, sdist, `--target`, git URL) carries them inside the package as `srbench._bundled.methods`
and `srbench._bundled.datasets`, found by `srbench.bundled.bundled_dir`. Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

BUNDLED = {"srbench._bundled.methods": "methods", "srbench._bundled.datasets": "datasets"}

setup(packages=find_packages(include=["srbench", "srbench.*"]) + list(BUNDLED), package_dir=BUNDLED)
