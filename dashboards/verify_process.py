"""``python -m dashboards.verify_process WORKSPACE``: verify a trail, print the report as JSON.

The dashboard runs this in a child process (see :mod:`dashboards.integrity`); it imports only
:mod:`governance.trail`, so it starts quickly and shares nothing with the pages' interpreter.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    """Verify the trail of workspace ``argv[0]`` (chain, checkpoints, blobs); print the report."""
    from governance.trail import verify_trail

    report = verify_trail(argv[0])
    print(json.dumps(report.to_dict(), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
