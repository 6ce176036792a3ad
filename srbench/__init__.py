"""srbench: benchmark single-image super-resolution with MATLAB-faithful metrics."""

__version__ = "0.1.0"
