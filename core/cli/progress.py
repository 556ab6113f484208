"""Progress of long CLI jobs on stderr, with tqdm.

On a terminal: one tqdm bar redrawn in place. Elsewhere (a log file, a pipe): tqdm's
in-place redraws would pile up on one line ("1/25...2/25..."), so each refresh is written
as its own line, at most every LOG_INTERVAL_S seconds, plus the last one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

LOG_INTERVAL_S = 10.0


class _Lines:
    """A file-like target that turns tqdm's carriage-return refreshes into lines."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def image_progress(description: str = "embedding images") -> Callable[[int, int], None]:
    """A progress(done, total) callback that drives a tqdm bar, closed when done == total."""
    stream = sys.stderr
    terminal = stream.isatty()
    bar: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(
                tqdm(
                    total=total,
                    desc=description,
                    unit="img",
                    file=stream if terminal else _Lines(stream),
                    mininterval=0.1 if terminal else LOG_INTERVAL_S,
                    ascii=not terminal,
                    dynamic_ncols=terminal,
                )
            )
        bar[0].update(done - bar[0].n)
        if done >= total:
            bar[0].close()

    return progress
