"""Silencing what C libraries print to the process's stderr while they probe."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` for the block.

    libjack and ALSA print diagnostics ("jack server is not running …") straight
    to the descriptor when a probe finds nothing; the caller reports the outcome
    in one line of its own. Python's ``sys.stderr`` is flushed first and works
    again afterwards. Where the descriptor cannot be redirected, nothing changes.
    """
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
