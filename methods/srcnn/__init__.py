"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): x4 9-5-5 (authors' MATLAB release) and x3 9-1-5."""
from . import adapter  # noqa: F401  (registers the method)
