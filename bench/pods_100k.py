"""Bench: the moonshot of issue #22, 100,000 pods.

    python bench/pods_100k.py [--churn 500] [--seconds 30] [--phase headless|console]

bench/pods_pane.py with 100,000 pods and 500 pod updates/s. The drill world runs in its own
process (--world process): its start-up is printed apart and is not what is measured.

Goals (issue #22): a table usable within 10 s (start -> table populated), key -> frame p99
< 50 ms under 500 updates/s, peak RSS <= 1 GB. Each is printed beside its figure, with the
headless KubeSource vs kubectl comparison (--phase headless; kubectl takes minutes here).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pods_pane import main

if __name__ == "__main__":
    sys.exit(
        main(
            pods=100_000,
            churn=500.0,
            repeat=1,
            events=0,
            rss_goal=1024.0,
            populate_goal=10.0,
            populate_timeout=600.0,
        )
    )
