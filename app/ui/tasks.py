"""Work off the UI thread, results back on it (after Anki's ``aqt.taskman``).

`TaskManager.run(fn, on_done, on_error)` runs ``fn()`` on the one *store*
thread: a single-worker executor, so every database call the UI makes is
serialised behind the others (SQLite has one writer; a dose written while
the roster refreshes waits its turn instead of failing on a lock), and the
event loop never waits for the disk. When ``fn`` returns, ``on_done(result)``
runs on the UI thread; when it raises, ``on_error(exc)`` does (or, without
one, the manager's ``failed`` signal carries the exception so no error is
swallowed). `run_background` is the same for work that does not touch the
store (PDF drawing of already-read rows, network probes), on its own pool.

Callbacks travel back through a queued Qt signal on a QObject that lives on
the UI thread, never by calling widgets from a worker thread.

``idle`` is emitted whenever the last pending task has finished, which is what
tests wait on (``qtbot.waitSignal(tasks.idle)``) instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger("imuno.site.ui")

T = TypeVar("T")


@dataclass(frozen=True)
class _Finished:
    future: Future[Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None


class TaskManager(QObject):
    """Runs callables on the store thread or the background pool; reports on the UI thread."""

    #: A task with no ``on_error`` raised this exception.
    failed = Signal(object)
    #: The last pending task has finished (its callback has run).
    idle = Signal()
    #: Internal: carries a finished future from a worker thread to the UI thread.
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imuno-store")
        self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="imuno-bg")
        self._pending = 0
        self._closed = False
        self._finished.connect(self._deliver)

    @property
    def pending(self) -> int:
        """Tasks submitted whose callbacks have not run yet."""
        return self._pending

    @property
    def closed(self) -> bool:
        """True once `shutdown` began: nothing more may be submitted."""
        return self._closed

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run `fn` on the single store thread; `on_done`/`on_error` run on the UI thread."""
        self._submit(self._store, fn, on_done, on_error)

    def run_background(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run `fn` (which must not write the store) on the background pool."""
        self._submit(self._background, fn, on_done, on_error)

    def run_now(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the store thread and wait for it (start-up and benchmarks only).

        Blocks the caller: never call it from a button's slot.
        """
        return self._store.submit(fn).result()

    def shutdown(self) -> None:
        """Finish queued work and stop the threads; later submissions are refused."""
        self._closed = True
        self._store.shutdown(wait=True)
        self._background.shutdown(wait=True)

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        if self._closed:
            raise RuntimeError("the task manager is shut down")
        self._pending += 1
        future = executor.submit(fn)
        # Emitting from the worker thread queues the call onto this object's (UI) thread.
        future.add_done_callback(lambda f: self._finished.emit(_Finished(f, on_done, on_error)))

    @Slot(object)
    def _deliver(self, finished: _Finished) -> None:
        try:
            if self._closed:
                # The window is closing: its widgets must not be touched any more. The work
                # itself is done (and committed); only the screen update is dropped.
                log.debug("result after shutdown not shown: %r", finished.future)
                return
            error = finished.future.exception()
            if error is None:
                if finished.on_done is not None:
                    finished.on_done(finished.future.result())
            elif finished.on_error is not None:
                finished.on_error(error)
            else:
                log.error("background task failed", exc_info=error)
                self.failed.emit(error)
        finally:
            self._pending -= 1
            if self._pending == 0:
                self.idle.emit()
