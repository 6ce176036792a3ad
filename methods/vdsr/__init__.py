"""VDSR (Kim, Lee, Lee, CVPR 2016), twtygqyy/pytorch-vdsr weights (one model for x2, x3, x4)."""
from . import adapter  # noqa: F401  (registers the method)
