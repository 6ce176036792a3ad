"""LapSRN (Lai et al., CVPR 2017), twtygqyy/pytorch-LapSRN x4 weights (x2 from the pyramid's first level)."""
from . import adapter  # noqa: F401  (registers the method)
