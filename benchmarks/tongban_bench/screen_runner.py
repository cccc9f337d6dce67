"""Timed runs of one engine of `tongban bench screen`, in a fresh interpreter.

Run by path (not `-m`), so the child imports only what its engine needs: not Typer, not the
other benchmarks. Usage::

    python screen_runner.py '{"engine": "...", "data": DIR, "harness": DIR, "out": FILE.npz, ...}'

One run by default; `"repeat": N` runs the engine N times in this process, after one set of
imports, as the harness's `bench.py one` does for RESULTS.md (its peak is then the highest of
the N runs, with whatever the first runs left allocated).

It prints one JSON line: the runs' seconds, the seconds spent before the timed part (imports,
loading the pack), the resident set after imports and the peak resident set of this process
(VmHWM, KiB; see `_peak_kib`). Each run's 100 × 8 matrices go to `out` (stacked, one per run)
for the parent to compare.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def _rss_kib() -> int:
    return _status_kib("VmRSS")


def _peak_kib() -> int:
    """This process's peak resident set. VmHWM, not ru_maxrss: Linux carries the parent's peak
    into a child's ru_maxrss across fork and exec, so a child of a large parent would report
    the parent's size. VmHWM belongs to the child's own address space."""
    return _status_kib("VmHWM")


def _timed(run: Callable[[], tuple[Any, Any]], repeat: int) -> tuple[list[tuple[Any, Any]], list[float]]:
    """`repeat` runs one after another in this process: each run's matrices and seconds."""
    results, seconds = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        results.append(run())
        seconds.append(time.perf_counter() - started)
    return results, seconds


def _harness_run(module: str, harness: str, data: str) -> Callable[[], tuple[Any, Any]]:
    sys.path.insert(0, harness)
    mod = __import__(module)

    def run() -> tuple[Any, Any]:
        elig, gap, _phases = mod.run(data)
        return elig, gap

    return run


def _local(name: str) -> Any:
    """Import a sibling module by path: `tongban_bench` itself would bring Typer, SQLAlchemy and
    every other benchmark into the measured process."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_tongban_bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str]) -> None:
    job: dict[str, Any] = json.loads(argv[1])
    engine, data, harness = job["engine"], job["data"], job["harness"]
    repeat = int(job.get("repeat", 1))
    # Running by path puts this folder first on sys.path; its module names must not shadow others.
    if sys.path and Path(sys.path[0]).resolve() == HERE:
        sys.path.pop(0)
    t0 = time.perf_counter()
    if engine == "hand_polars":
        import numpy  # noqa: F401 - imported before the baseline, as in every engine
        import polars  # noqa: F401

        baseline, setup = _rss_kib(), time.perf_counter() - t0
        results, seconds = _timed(_harness_run("eng_polars", harness, data), repeat)
    elif engine == "openfisca":
        os.environ["LOOKUP"] = "table"  # variant A' in RESULTS.md: the numpy table lookup
        sys.path.insert(0, harness)
        import eng_openfisca  # noqa: F401

        baseline, setup = _rss_kib(), time.perf_counter() - t0
        results, seconds = _timed(_harness_run("eng_openfisca", harness, data), repeat)
    elif engine in ("tongban_polars", "tongban_duckdb"):
        # The libraries the timed part uses are imported before it, as the harness's engines
        # import theirs (numpy for the matrices: 0.1–0.4 s on a busy machine, once per process).
        import numpy  # noqa: F401
        import polars  # noqa: F401

        if engine == "tongban_duckdb":
            import duckdb  # noqa: F401
        screen_engine = _local("screen_engine")
        prepared = screen_engine.prepare(job)
        baseline, setup = _rss_kib(), time.perf_counter() - t0
        backend = engine.removeprefix("tongban_")
        results, seconds = _timed(lambda: screen_engine.run(prepared, backend=backend), repeat)
    elif engine == "city_polars":
        screen_city = _local("screen_city")
        prepared = screen_city.prepare(job)
        baseline, setup = _rss_kib(), time.perf_counter() - t0
        started = time.perf_counter()
        result = screen_city.run(prepared)
        elapsed = time.perf_counter() - started
        peak = _peak_kib()
        print(json.dumps({"seconds": elapsed, "setup": setup, "baseline_kib": baseline, "peak_kib": peak,
                          **result}))
        return
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    peak = _peak_kib()
    import numpy as np

    np.savez(job["out"], elig=np.stack([np.asarray(e, dtype=np.int64) for e, _ in results]),
             gap=np.stack([np.asarray(g, dtype=np.int64) for _, g in results]))
    print(json.dumps({"seconds": seconds, "setup": setup, "baseline_kib": baseline, "peak_kib": peak}))


if __name__ == "__main__":
    main(sys.argv)
