"""Reading a batch of files on every core: read and validate in worker processes, in file order.

``ipdash load`` of a folder spends most of its time reading: the gate (``etl.safety``), the
labels and every rule of ``etl.readers``. That part is pure — a file's bytes in, a ``ParsedFile``
out, nothing read from or written to the store — so ``ReadAhead`` runs it in worker processes
while the caller (``etl.load.load_paths``) checks each result against the store (locks,
cross-period warnings) and writes it, one transaction per file, in the order of the files. What
is stored, printed and returned is therefore exactly what a serial run gives; only the reading
moves.

Decisions written down:
- Workers are forked (``fork`` start method): they inherit the imported modules, the catalogue,
  the language and the incident log of the parent, and start in milliseconds. Where ``fork`` is
  not offered, or for fewer than ``PARALLEL_MIN_FILES`` files, or ``jobs`` is 1, the files are read
  in the calling process, as before.
- A bug while reading a file (an exception, never bad input: that is an ``Issue``) is logged in
  the worker with its traceback under an incident id, and the caller reports that file as the
  serial loader does.
- A worker that dies (a crash in a native library) breaks the pool; the files not yet read are
  then read in the calling process, as a serial run would.
- At most ``WINDOW_PER_JOB`` chunks per worker are in flight, so a folder of any size holds only a
  few dozen parsed files in memory ahead of the writer.
- Workers ignore Ctrl-C; the caller's ``KeyboardInterrupt`` closes the pool. A worker whose parent
  is gone without closing it (killed) notices within a second and exits: no orphans left waiting.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from types import TracebackType

from etl.readers import read_file
from etl.records import ParsedFile
from foundation.catalogue import Catalogue, default_catalogue
from foundation.incidents import record_incident
from foundation.settings import BUILT_IN, Settings

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Below this many files the workers are not worth starting: forking and feeding them costs about
# what reading a dozen returns (≈ 2 ms each) does. A judgement, not a measured break-even.
PARALLEL_MIN_FILES = 12
CHUNK = 4  # files per task sent to a worker: fewer round trips, still a fine-grained order
WINDOW_PER_JOB = 8  # chunks in flight per worker
PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ReadFault:
    """Reading a file raised (a bug, logged under ``incident``): the caller reports it."""

    incident: str
    error: str  # the exception's class name


Read = ParsedFile | ReadFault


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for Excel files (sorted, Office lock files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.suffix.lower() in EXCEL_SUFFIXES and not f.name.startswith("~$")
                )
            )
        else:
            out.append(p)
    return out


def usable_cpus() -> int:
    """The cores this process may run on (the affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_one(
    path: Path,
    *,
    as_unit: str | None,
    catalogue: Catalogue,
    region: str | None,
    settings: Settings,
) -> Read:
    """Read and validate one file, as ``etl.load`` does; a bug becomes a ``ReadFault``."""
    try:
        return read_file(
            path, file_name=path.name, catalogue=catalogue, region=region, as_unit=as_unit, settings=settings
        )
    except Exception as exc:  # a fault of ours: logged here with its traceback, reported by the caller
        return ReadFault(record_incident(f"loading {path}", exc), exc.__class__.__name__)


# What every worker reads with, set once when the worker starts (inherited through fork).
_worker_reader: Callable[[Path], Read] | None = None


def _start_worker(reader: Callable[[Path], Read]) -> None:
    global _worker_reader
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes the pool
    _worker_reader = reader
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A killed parent never closes the pool, and the workers would wait for work forever."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _read_chunk(paths: Sequence[Path]) -> list[Read]:
    assert _worker_reader is not None, "worker not started"
    return [_worker_reader(path) for path in paths]


class ReadAhead:
    """The files of a batch, read and validated ahead of the writer, yielded in file order.

    Use as a context manager (the pool is closed on leaving); iterate once. ``jobs``: processes
    reading (None: every usable core); 1 reads in the calling process, lazily, as it is iterated.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        jobs: int | None = None,
        as_unit: str | None = None,
        catalogue: Catalogue | None = None,
        region: str | None = None,
        settings: Settings = BUILT_IN,
    ) -> None:
        self.paths = list(paths)
        cat = catalogue or default_catalogue()

        def reader(path: Path) -> Read:
            return read_one(path, as_unit=as_unit, catalogue=cat, region=region, settings=settings)

        self._reader = reader
        wanted = usable_cpus() if jobs is None else max(1, jobs)
        self.jobs = min(wanted, max(1, len(self.paths) // CHUNK))
        if len(self.paths) < PARALLEL_MIN_FILES or "fork" not in get_all_start_methods():
            self.jobs = 1
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[list[Path], Future[list[Read]]]] = deque()
        self._chunks = iter([self.paths[i : i + CHUNK] for i in range(0, len(self.paths), CHUNK)])
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=get_context("fork"),
                initializer=_start_worker,
                initargs=(reader,),
            )
            self._fill()

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def _fill(self) -> None:
        assert self._pool is not None
        while len(self._pending) < self.jobs * WINDOW_PER_JOB:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._pending.append((chunk, self._pool.submit(_read_chunk, chunk)))

    def __iter__(self) -> Iterator[Read]:
        if self._pool is None:
            for path in self.paths:
                yield self._reader(path)
            return
        while self._pending:
            chunk, future = self._pending.popleft()
            try:
                reads = future.result()
            except BrokenProcessPool:
                # A worker died: read what is left here, in order, exactly as a serial run would.
                self.close()
                for path in (
                    chunk + [p for c, _ in self._pending for p in c] + [p for c in self._chunks for p in c]
                ):
                    yield self._reader(path)
                self._pending.clear()
                return
            if self._pool is not None:
                self._fill()
            yield from reads

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
