"""ESPCN (Shi et al., CVPR 2016), Nhat-Thanh/ESPCN-Pytorch weights for x2, x3, x4."""
from . import adapter  # noqa: F401  (registers the method)
