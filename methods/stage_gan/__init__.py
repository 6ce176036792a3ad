"""Stage-GAN (Wei et al. 2019): architecture, srbench-trained adapter (x4, x8) and training recipe."""
from . import adapter, recipe  # noqa: F401
