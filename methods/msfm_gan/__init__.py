"""MSFM-GAN (Zhou et al.): multi-scale feature mapping generator, PatchGAN discriminator, EPA loss."""
from . import adapter, recipe  # noqa: F401
