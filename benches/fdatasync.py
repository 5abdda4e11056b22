#!/usr/bin/env python3
"""What one journal sync costs on a disk: append a 443-byte line (a shell step's start record is
about that long) and `fdatasync`, as the journal does before each step with side effects.

Usage: benches/fdatasync.py [DIR ...]   (default: $TMPDIR, then /dev/shm)
Prints the median, 10th and 90th percentile and mean of 200 syncs per directory.
"""
import os
import statistics
import sys
import tempfile
import time

CALLS = 200
LINE = b"x" * 442 + b"\n"


def measure(directory: str) -> str:
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        fd = os.open(os.path.join(scratch, "journal.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            took = []
            for _ in range(CALLS):
                os.write(fd, LINE)
                started = time.perf_counter()
                os.fdatasync(fd)
                took.append(time.perf_counter() - started)
        finally:
            os.close(fd)
    took.sort()
    ms = lambda seconds: f"{seconds * 1e3:.3f} ms"
    return (
        f"{directory}: fdatasync of a {len(LINE)}-byte append, {CALLS} calls: median "
        f"{ms(statistics.median(took))}, p10 {ms(took[CALLS // 10])}, p90 {ms(took[CALLS * 9 // 10])}, "
        f"mean {ms(statistics.mean(took))}"
    )


if __name__ == "__main__":
    for directory in sys.argv[1:] or [tempfile.gettempdir(), "/dev/shm"]:
        print(measure(directory))
