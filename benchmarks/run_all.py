"""`make bench`: every benchmark in turn, each printing its own table; then the full-size fuzz run."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

for script in ("token_route.py", "meeting_latency.py", "loop_lag.py", "sessions.py"):
    print(f"\n## {script}\n", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)

# The fuzz tests at full size (`make test` runs them smaller): 10,000 Reflex events, 2,000 /api/rtc frames.
print("\n## fuzz: tests/browser/test_fuzz.py with 10,000 events and 2,000 frames\n", flush=True)
subprocess.run(
    [sys.executable, "-m", "pytest", "tests/browser/test_fuzz.py", "-p", "no:rerunfailures", "-q", "-s"],
    cwd=ROOT,
    env={
        **os.environ,
        "YOOM_FUZZ_EVENTS": os.environ.get("YOOM_FUZZ_EVENTS", "10000"),
        "YOOM_FUZZ_FRAMES": os.environ.get("YOOM_FUZZ_FRAMES", "2000"),
    },
    check=True,
)
