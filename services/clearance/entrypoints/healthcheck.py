"""Container health check (Docker ``HEALTHCHECK``): exit 0 when this container's API or worker
answers ``/health/live``. Kubernetes uses its own probes instead (deploy/k8s)."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    """0 when the API port or the worker's ops port says the process is alive, else 1."""
    ports = (
        os.environ.get("CLEARANCE_API_PORT", "8000"),
        os.environ.get("CLEARANCE_OPS_PORT", "9102"),
    )
    for port in ports:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/health/live", timeout=2
            ) as answer:
                if answer.status == 200:
                    return 0
        except OSError:
            continue
    return 1


if __name__ == "__main__":
    sys.exit(main())
