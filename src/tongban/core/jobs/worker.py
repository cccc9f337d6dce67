"""The job worker: claims ready jobs, runs them, enqueues due periodic jobs; stops gracefully."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass

from tongban.core.db import Database
from tongban.core.jobs import queue, registry

log = logging.getLogger("tongban.jobs")
_numbers = itertools.count(1)


@dataclass
class WorkerOptions:
    lease_seconds: int = 300
    idle_sleep: float = 1.0
    concurrency: int = 1


class Worker:
    def __init__(self, db: Database, options: WorkerOptions | None = None) -> None:
        self.db = db
        self.options = options or WorkerOptions()
        # Unique per worker (several threads of one process are several workers); fits job.worker.
        self.id = f"{socket.gethostname()[:40]}:{os.getpid()}:{next(_numbers)}"
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        """Finish the current job, then stop."""
        self.stopping.set()

    def run_once(self) -> int:
        """Enqueue due schedules and run every job that is ready now; return how many ran."""
        ran = 0
        queue.enqueue_due_schedules(self.db)
        while not self.stopping.is_set():
            claims = queue.claim(self.db, worker=self.id, lease_seconds=self.options.lease_seconds)
            if not claims:
                break
            for job in claims:
                if job.attempts > job.max_attempts:
                    queue.mark_failed(self.db, job, worker=self.id,
                                  exc=RuntimeError("the job's worker stopped too many times"))
                    continue
                queue.run(self.db, job, worker=self.id)
                ran += 1
        return ran

    def run_forever(self) -> None:
        """Loop until stopped (the caller has synced the schedules)."""
        log.info("worker started", extra={"worker": self.id})
        while not self.stopping.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database may be briefly away: log, wait, go on
                log.exception("worker loop failed")
                ran = 0
            if not ran:
                self.stopping.wait(self.options.idle_sleep)
        log.info("worker stopped", extra={"worker": self.id})


def serve(db: Database, *, modules: list[str], options: WorkerOptions, once: bool = False) -> int:
    """Run `options.concurrency` workers (threads) until SIGTERM/SIGINT; `once` drains and returns."""
    registry.load_modules(modules)
    if options.concurrency > 1 and db.is_sqlite:
        raise ValueError("SQLite runs one worker; use PostgreSQL for --concurrency > 1")
    queue.sync_schedules(db)
    workers = [Worker(db, options) for _ in range(options.concurrency)]
    if once:
        counts = [0] * len(workers)

        def drain(i: int) -> None:
            counts[i] = workers[i].run_once()

        drains = [threading.Thread(target=drain, args=(i,), name=f"worker-{i}") for i in range(len(workers))]
        for t in drains:
            t.start()
        for t in drains:
            t.join()
        return sum(counts)

    def stop_all(*_: object) -> None:
        for w in workers:
            w.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop_all)
    threads = [threading.Thread(target=w.run_forever, name=f"worker-{i}") for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
    return 0
