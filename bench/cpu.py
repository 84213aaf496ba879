"""CPU used while a block runs, by group of processes, for the benchmarks' figures.

A thread samples every process's cumulative CPU time, so processes that come and go (pgbench's
backends, PostgreSQL's workers) count. Each benchmark says which group a process belongs to."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psutil  # installed with pgserver


class CpuMeter:
    interval = 0.2

    def group(self, pid: int, info: dict[str, Any], me: int) -> str | None:
        """The group a process's CPU counts in, or None to leave it out."""
        raise NotImplementedError

    def __enter__(self) -> CpuMeter:
        self.first: dict[int, tuple[str, float]] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._sample(self.first)
        self.last.update(self.first)
        self.started = time.perf_counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        self._sample(self.last)
        self.seconds = time.perf_counter() - self.started
        self.used: dict[str, float] = {}  # CPU seconds by group
        for pid, (key, total) in self.last.items():
            self.used[key] = self.used.get(key, 0.0) + total - self.first.get(pid, (key, 0.0))[1]

    @property
    def shares(self) -> dict[str, float]:
        """CPU by group as a share of one core."""
        return {key: used / self.seconds for key, used in self.used.items()}

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self._sample(self.last)

    def _sample(self, into: dict[int, tuple[str, float]]) -> None:
        me = os.getpid()
        for proc in psutil.process_iter(["name", "ppid", "cmdline", "cpu_times"]):
            try:
                info = proc.info
                key = self.group(proc.pid, info, me) if info["cpu_times"] is not None else None
                if key:
                    into[proc.pid] = (key, info["cpu_times"].user + info["cpu_times"].system)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
