"""Error types. A UserError is bad input: the CLI prints its one-line message and exits with 2."""


class SrbenchError(Exception):
    """Base class of every error srbench raises on purpose."""


class UserError(SrbenchError):
    """Bad input from the user (unknown name, unreadable file, malformed manifest ...)."""


class AssetError(UserError):
    """An asset (dataset, weights, model parameters) cannot be resolved or fails verification."""


class ChecksumError(AssetError):
    """A file's sha256 does not match its manifest."""


class Unavailable(SrbenchError):
    """A method or metric cannot run here (e.g. weights or model file missing); the run goes on without it."""
