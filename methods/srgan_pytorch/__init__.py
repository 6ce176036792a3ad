"""leftthomas/SRGAN x4 generator (the SRGAN baseline of the MSFM paper), registered as `srgan-pytorch`."""
from . import adapter  # noqa: F401  (registers the method)
