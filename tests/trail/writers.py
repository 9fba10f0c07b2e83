"""Child processes for the concurrency and crash tests (run as ``python -m`` or ``-c``)."""

from __future__ import annotations

import sys

# Appends N events once the parent says "go" on stdin, printing "seq entry_hash" after each
# append returns (i.e. once it is acknowledged as durable), and a checkpoint every EVERY appends.
APPENDER = """
import sys
from governance.trail import open_trail
target, url, writer, n, every = sys.argv[1], sys.argv[2] or None, sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t = open_trail(target, url=url)
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    ev = t.append("test.appended", run_id=f"writer-{writer}", actor=f"w{writer}", payload={"i": i})
    print(ev.seq, ev.entry_hash, flush=True)
    if every and (i + 1) % every == 0:
        t.checkpoint()  # checkpoints signed while the others keep appending
t.close()
"""

# Appends until killed, with a checkpoint now and then (so kills also land inside checkpoints).
ENDLESS = """
import sys
from governance.trail import open_trail
t = open_trail(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    ev = t.append("test.appended", run_id="crash", payload={"i": i, "pad": "x" * (i % 700)})
    sys.stdout.write(f"{ev.seq} {ev.entry_hash}\\n")
    sys.stdout.flush()
    i += 1
    if ev.seq % 25 == 0:
        t.checkpoint()
"""


def acknowledged(lines: list[str]) -> dict[int, str]:
    """seq -> entry hash for every complete acknowledgement line."""
    acks = {}
    for line in lines:
        if not line.endswith("\n"):
            continue  # cut off by the kill: not acknowledged
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            acks[int(parts[0])] = parts[1]
    return acks


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through the tests")
