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


MAX_MESSAGE = 400  # characters of an error message kept in errors.csv and on stderr
_ANSI = None


def strip_ansi(text: str) -> str:
    """Text without terminal escape sequences (torch colours some of its messages; errors.csv and logs
    must hold plain text)."""
    global _ANSI
    if _ANSI is None:
        import re

        _ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]")
    return _ANSI.sub("", text)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, without escape codes, cut at MAX_MESSAGE characters, prefixed
    with its type unless srbench raised it on purpose (those messages already name the file and the
    problem)."""
    text = " ".join(line.strip() for line in strip_ansi(str(exc)).splitlines() if line.strip())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    if isinstance(exc, SrbenchError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
