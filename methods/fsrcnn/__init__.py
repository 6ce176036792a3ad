"""FSRCNN (Dong, Loy, Tang, ECCV 2016), yjn870/FSRCNN-pytorch weights for x2, x3, x4."""
from . import adapter  # noqa: F401  (registers the method)
