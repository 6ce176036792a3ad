"""EnhanceNet-PAT (Sajjadi, Schoelkopf, Hirsch, ICCV 2017), the authors' x4 TensorFlow weights (converted)."""
from . import adapter  # noqa: F401  (registers the method)
