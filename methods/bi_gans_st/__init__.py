"""Bi-GANs-ST (PIRM 2018): MR-SRGAN and WP-SRGAN branches and their soft-thresholding fusion."""
from . import adapter, recipe  # noqa: F401
