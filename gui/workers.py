"""Background jobs: one QObject worker per job, moved to its own QThread.

A job is a plain function `job(progress, cancelled) -> result` that calls
core only and never touches a widget. `progress(fraction, text, partial=None)`
may carry a partial result (a provisional map), delivered to `on_partial` on the
GUI thread: start, partial results, done, cancel (the pattern of Orange's
ConcurrentWidgetMixin). The worker calls `torch.set_num_threads`
inside `run()` (a value set on the GUI thread does not bind a later QThread),
and emits progress, the result, a failure or the cancellation.

`JobRunner` lives on the GUI thread and owns every thread it starts until
that thread has finished (dropping a running QThread aborts the process).
Jobs run in channels ("prepare-q", "compare", ...): starting a job cancels
the channel's previous one, and a generation counter discards any result
that arrives from stale work. `shutdown()` cancels and joins all of them.

Engine calls are serialised by one lock: the engine's caches are plain dicts.
"""

from __future__ import annotations

import itertools
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.errors import PatchwiseError

ENGINE_LOCK = threading.Lock()


class Worker(QObject):
    """Runs one job on the thread it was moved to; signals carry the job id."""

    progress = Signal(int, float, str)
    partial = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, str, bool)  # job id, message, expected (a PatchwiseError)
    cancelled = Signal(int)

    def __init__(self, job_id: int, job: Callable, threads: int | None):
        super().__init__()
        self.job_id = job_id
        self._job = job
        self._threads = threads
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        torch.set_num_threads(self._threads or os.cpu_count() or 1)
        try:
            result = self._job(self._report, self._cancel.is_set)
        except PatchwiseError as exc:
            self.failed.emit(self.job_id, str(exc), True)
            return
        except Exception:  # noqa: BLE001 - reported to the GUI, which logs it
            self.failed.emit(self.job_id, traceback.format_exc(), False)
            return
        if self._cancel.is_set():
            self.cancelled.emit(self.job_id)
        else:
            self.finished.emit(self.job_id, result)

    def _report(self, fraction: float, text: str = "", partial=None) -> None:
        self.progress.emit(self.job_id, float(fraction), text)
        if partial is not None:
            self.partial.emit(self.job_id, partial)


@dataclass
class _Running:
    channel: str
    generation: int
    thread: QThread
    worker: Worker
    on_done: Callable | None
    on_error: Callable | None
    on_progress: Callable | None
    on_partial: Callable | None = None
    alive: bool = field(default=True)  # our own flag: never ask a deleted QThread


class JobRunner(QObject):
    """Starts jobs in worker threads and delivers only current results on the GUI thread."""

    started = Signal(str)  # channel
    stopped = Signal(str)  # channel (finished, failed or cancelled)

    def __init__(self, threads: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._threads = threads
        self._ids = itertools.count(1)
        self._generation: dict[str, int] = {}
        self._jobs: dict[int, _Running] = {}

    def start(
        self,
        channel: str,
        job: Callable,
        on_done: Callable | None = None,
        on_error: Callable | None = None,
        on_progress: Callable | None = None,
        on_partial: Callable | None = None,
    ) -> int:
        """Run `job` in a new thread; cancels the channel's running job first."""
        self.cancel(channel)
        generation = self._generation.get(channel, 0) + 1
        self._generation[channel] = generation
        job_id = next(self._ids)
        thread = QThread()
        worker = Worker(job_id, job, self._threads)
        worker.moveToThread(thread)
        worker.progress.connect(self._on_progress)
        worker.partial.connect(self._on_partial)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        thread.started.connect(worker.run)
        self._jobs[job_id] = _Running(
            channel, generation, thread, worker, on_done, on_error, on_progress, on_partial
        )
        thread.start()
        self.started.emit(channel)
        return job_id

    def cancel(self, channel: str) -> None:
        """Ask the channel's running jobs to stop; their results will be discarded."""
        self._generation[channel] = self._generation.get(channel, 0) + 1
        for running in self._jobs.values():
            if running.channel == channel:
                running.worker.cancel()

    def is_busy(self, channel: str | None = None) -> bool:
        return any(
            r.alive and (channel is None or r.channel == channel) for r in self._jobs.values()
        )

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel every job and join its thread (called when the window closes)."""
        for running in self._jobs.values():
            running.worker.cancel()
        for running in list(self._jobs.values()):
            running.thread.quit()
            running.thread.wait(timeout_ms)
        self._jobs.clear()

    # -- relays (run on the GUI thread: this object lives there) -----------------

    def _current(self, job_id: int) -> _Running | None:
        running = self._jobs.get(job_id)
        if running is None or self._generation.get(running.channel) != running.generation:
            return None
        return running

    @Slot(int, float, str)
    def _on_progress(self, job_id: int, fraction: float, text: str) -> None:
        running = self._current(job_id)
        if running is not None and running.on_progress is not None:
            running.on_progress(fraction, text)

    @Slot(int, object)
    def _on_partial(self, job_id: int, partial) -> None:
        running = self._current(job_id)
        if running is not None and running.on_partial is not None:
            running.on_partial(partial)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result) -> None:
        running = self._current(job_id)
        self._finish(job_id)
        if running is None or running.on_done is None:
            return
        try:
            running.on_done(result)
        except Exception:  # noqa: BLE001 - a bug in a view: report it, keep the app alive
            if running.on_error is None:
                raise
            running.on_error(traceback.format_exc(), False)

    @Slot(int, str, bool)
    def _on_failed(self, job_id: int, message: str, expected: bool) -> None:
        running = self._current(job_id)
        self._finish(job_id)
        if running is not None and running.on_error is not None:
            running.on_error(message, expected)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        self._finish(job_id)

    def _finish(self, job_id: int) -> None:
        running = self._jobs.pop(job_id, None)
        if running is None:
            return
        running.alive = False
        running.thread.quit()
        running.thread.wait()
        self.stopped.emit(running.channel)
