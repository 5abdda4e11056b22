#!/usr/bin/env python3
"""What one journal sync costs on a disk: append a 443-byte line (a shell step's start record is
about that long) and `fdatasync`, as the journal does before each step with side effects.

Usage: benches/fdatasync.py [--gap MS] [DIR ...]   (default: $TMPDIR, then /dev/shm)
Prints the median, 10th and 90th percentile and mean of 200 syncs per directory. `--gap` waits
that long between syncs, as a run's steps space them (W3: about 1 ms); back-to-back syncs can
behave differently (on ext4 under other writers' load they queue behind each journal commit).
"""
import argparse
import os
import statistics
import tempfile
import time

CALLS = 200
LINE = b"x" * 442 + b"\n"


def measure(directory: str, gap: float) -> str:
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        fd = os.open(os.path.join(scratch, "journal.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            took = []
            for _ in range(CALLS):
                os.write(fd, LINE)
                started = time.perf_counter()
                os.fdatasync(fd)
                took.append(time.perf_counter() - started)
                if gap:
                    time.sleep(gap)
        finally:
            os.close(fd)
    took.sort()
    ms = lambda seconds: f"{seconds * 1e3:.3f} ms"
    return (
        f"{directory}: fdatasync of a {len(LINE)}-byte append, {CALLS} calls, {gap * 1e3:g} ms apart: median "
        f"{ms(statistics.median(took))}, p10 {ms(took[CALLS // 10])}, p90 {ms(took[CALLS * 9 // 10])}, "
        f"mean {ms(statistics.mean(took))}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="What one journal sync costs in a directory.")
    parser.add_argument("--gap", type=float, default=0.0, help="milliseconds between syncs")
    parser.add_argument("dirs", nargs="*", default=[tempfile.gettempdir(), "/dev/shm"])
    args = parser.parse_args()
    for directory in args.dirs:
        print(measure(directory, args.gap / 1e3))
