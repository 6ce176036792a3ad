"""Losses of the papers' recipes. Discriminators output logits; probabilities are sigmoid(logit), and the
log-probabilities are computed from the logits (logsigmoid) so that saturated discriminators give finite
losses and gradients."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(a, b)


def feature_mse(features, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of feature maps (SRGAN eq. 5, MSFM eq. 4); the HR side needs no gradient."""
    with torch.no_grad():
        target = features(hr)
    return F.mse_loss(features(sr), target)


def _log_mean_prob(logits: torch.Tensor, positive: bool) -> torch.Tensor:
    """log of the per-sample mean of sigmoid(+-logits) over a patch map (N x ...) -> N."""
    logp = F.logsigmoid(logits if positive else -logits).flatten(1)
    return torch.logsumexp(logp, dim=1) - math.log(logp.shape[1])


def generator_nll(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(x)) (SRGAN eq. 6; WP-SRGAN eq. 8). For a patch map (MSFM eq. 5) D is the mean probability
    over the patches, so the log is taken of the mean, not averaged over patches."""
    return -_log_mean_prob(fake_logits, True).mean()


def generator_prob(fake_logits: torch.Tensor) -> torch.Tensor:
    """-D(G(x)): MR-SRGAN's adversarial loss with the logarithm removed (Bi-GANs-ST eq. 4)."""
    return -torch.sigmoid(fake_logits).flatten(1).mean(1).mean()


def discriminator_nll_real(real_logits: torch.Tensor) -> torch.Tensor:
    """-log D(HR), the real half of `discriminator_nll`."""
    return -_log_mean_prob(real_logits, True).mean()


def discriminator_nll_fake(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log(1 - D(G(LR))), the fake half of `discriminator_nll`."""
    return -_log_mean_prob(fake_logits, False).mean()


def discriminator_nll(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(HR) - log(1 - D(G(LR))): the discriminator's side of the min-max game (SRGAN eq. 2)."""
    return discriminator_nll_real(real_logits) + discriminator_nll_fake(fake_logits)


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def relativistic_discriminator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """ESRGAN's relativistic average discriminator loss, with D_Ra(a, b) = sigmoid(C(a) - E[C(b)]):
    (-E log D_Ra(real, fake) - E log(1 - D_Ra(fake, real))) / 2, averaged over the two terms as ESRGAN's
    released training code does (its 5e-3 generator weight was chosen with that scaling)."""
    return (_bce(real_logits - fake_logits.mean(), 1.0) + _bce(fake_logits - real_logits.mean(), 0.0)) / 2


def relativistic_generator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """ESRGAN's relativistic average generator loss (both terms, symmetric to the discriminator's):
    (-E log(1 - D_Ra(real, fake)) - E log D_Ra(fake, real)) / 2; `real_logits` need no gradient."""
    return (_bce(real_logits - fake_logits.mean(), 0.0) + _bce(fake_logits - real_logits.mean(), 1.0)) / 2
