"""The project's exception hierarchy.

Every error a user can cause (a bad setting, a missing device, a broken file)
is one of these, with a message that fits on one line and says what to do.
"""

from __future__ import annotations


class GanterpError(Exception):
    """Base class of every error ganterp raises on purpose."""


class ConfigError(GanterpError):
    """A setting is unknown, of the wrong type or out of range."""


class AudioInputError(GanterpError):
    """An audio device cannot be found, opened or read."""


class AudioFileError(AudioInputError):
    """An audio file is missing, empty, truncated or not audio."""


class DisplayError(GanterpError):
    """The window cannot be opened."""


class RecordError(GanterpError):
    """The recording cannot be written."""


def one_line(error: object) -> str:
    """Squeeze an exception (or any text) onto one line for a message.

    Returns the exception's type name when it has no text.
    """
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        return type(error).__name__
    return text
