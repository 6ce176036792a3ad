"""SRResNet (Ledig et al. 2017), MSE-trained by srbench: architecture, adapter and training recipe."""
from . import adapter, recipe  # noqa: F401
