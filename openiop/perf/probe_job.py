"""A worker pass over one probe job, for the SIGKILL fault (issue 13, point 5).

    python -m openiop.perf.probe_job KEY [GATE_FILE]

Makes the job `perf.fault_probe.KEY` in this process only (it is handed to `run_due`,
not added to production's registry; nothing imports this module), then runs one pass
over it, as `openiop worker --once` would. The job writes a few rows (`Sequence` counters named
`fault:KEY:1..3`) and then, while GATE_FILE exists, prints `blocked` and waits: the fault
test kills the process there with SIGKILL, mid-job, and runs it again without the gate.
Each line of the pass's outcome is printed as `JOB PERIOD STATUS`.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROWS = 3


def main(argv: list[str]) -> int:
    import django

    django.setup()

    from openiop.core.context import request_context
    from openiop.core.models import Sequence
    from openiop.core.worker import Job, Schedule, run_due

    key = argv[0]
    gate = Path(argv[1]) if len(argv) > 1 else None

    @dataclass(frozen=True)
    class Once(Schedule):
        """One fixed period, so a run near a quarter-hour boundary is still the same one."""

        period: str

        def period_for(self, now: dt.datetime) -> str:
            return self.period

        def describe(self) -> str:
            return f"once ({self.period})"

    def probe(period: str) -> str:
        for i in range(1, ROWS + 1):
            Sequence.next_value(f"fault:{key}:{i}")
        if gate is not None and gate.exists():
            print("blocked", flush=True)  # the rows are written, not committed
            while gate.exists():
                time.sleep(0.05)
        return f"{ROWS} rows"

    name = f"perf.fault_probe.{key}"
    job = Job(name, Once(key), probe, "Fault probe")
    with request_context(source="worker"):
        outcomes = run_due(jobs={name: job})
    for o in outcomes:
        print(o.job, o.period, o.status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
