"""SRGAN (Ledig et al. 2017): the SRResNet generator (arch shared with methods/srresnet) trained adversarially."""
from . import adapter, recipe  # noqa: F401
