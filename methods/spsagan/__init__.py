"""SPSAGAN (Zhang et al.): RRSB trunk + segmentation-prior self-attention; srbench-trained x4 adapter,
training recipes and the RRDB -> RRSB pruning procedure."""
from . import adapter, recipe  # noqa: F401
