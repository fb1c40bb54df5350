"""Scaling and encoding a render's frames beside the generator, in order.

The generator and the encoder each keep a core busy; one after the other they
would take the sum of their times. :class:`BackgroundEncoder` takes batches of
painted pictures and, on a thread of its own, fits them to the video's size
(:class:`ganterp.live.video.fit.FrameFitter`) and writes them with their sound, while
the next batch paints. At most ``depth`` batches wait, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from ganterp.live.offline.writer import VideoWriter
from ganterp.live.video.fit import FrameFitter


class BackgroundEncoder:
    """Fit and write batches of pictures on a thread, in the order given.

    Parameters
    ----------
    writer : VideoWriter
        Where the frames go; only this object's thread writes to it until
        :meth:`finish` or :meth:`stop` returns.
    depth : int
        Batches that may wait to be encoded before :meth:`submit` blocks.
    """

    def __init__(self, writer: VideoWriter, *, depth: int = 2) -> None:
        self._writer = writer
        self._fitter = FrameFitter((writer.width, writer.height), writer.pix_fmt)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="render-encoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (pixels := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain what is left after a failure
            try:
                for rgb in pixels:
                    if self._cancel.is_set():
                        break
                    self._writer.write_frame(self._fitter.fit(rgb))
            except BaseException as exc:  # handed to the painting thread
                self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, pixels: np.ndarray) -> None:
        """Queue the next pictures.

        Parameters
        ----------
        pixels : np.ndarray, shape (B, r, r, 3), uint8
            RGB pictures in frame order.

        Raises
        ------
        Exception
            What writing an earlier batch raised (a full disk, say).
        """
        self._raise_error()
        self._queue.put(pixels)

    def finish(self) -> None:
        """Wait until every queued picture is written.

        Raises
        ------
        Exception
            What writing a batch raised.
        """
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def stop(self) -> None:
        """Write what waits, unless writing failed, and end the thread.

        After an interruption or a generator's failure the pictures already
        painted still reach the file (at most ``depth`` batches). A second
        interruption while they are written stops after the frame in hand; the
        thread has ended either way when this returns or raises, so the writer
        can then be closed safely.

        Raises
        ------
        KeyboardInterrupt
            Only that second interruption, after the thread has ended.
        """
        try:
            self._queue.put(None)
            self._thread.join()
        except KeyboardInterrupt:
            self._cancel.set()
            self._drain_queue()
            self._thread.join()
            raise

    def _drain_queue(self) -> None:
        """Empty the queue and leave the end marker, without blocking."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put_nowait(None)
