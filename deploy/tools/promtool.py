"""Make sure a pinned promtool is on hand for the alert-rule tests (``promtool test rules``).

Takes ``/usr/bin/promtool`` out of Debian 12's ``prometheus`` package (upstream Prometheus 2.42.0;
Debian's security updates keep the same upstream version and change only the ``+deb12uN`` suffix)
with ``apt-get download`` and ``dpkg-deb -x``: nothing is installed system-wide and no server is
started. Puts it into the virtualenv's ``bin``. Run by ``make tools`` (``make test`` depends on it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "prometheus"
#: The upstream version the rules are tested with (Debian 12 "bookworm").
UPSTREAM = "2.42.0"


def installed(target: Path) -> bool:
    """True when ``target`` runs and reports the pinned upstream version."""
    if not target.exists():
        return False
    answer = subprocess.run([str(target), "--version"], capture_output=True, text=True)
    return f"version {UPSTREAM}" in answer.stdout + answer.stderr


def _candidates() -> list[str]:
    policy = subprocess.run(
        ["apt-cache", "policy", PACKAGE], capture_output=True, text=True, check=False
    ).stdout
    found = [line.split(":", 1)[1].strip() for line in policy.splitlines() if "Candidate:" in line]
    return [version for version in found if version != "(none)"]


def candidate() -> str:
    """The Debian version apt would install, which must be the pinned upstream version."""
    lines = _candidates()
    if not lines and os.geteuid() == 0:  # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-q"], check=True)
        lines = _candidates()
    if not lines or not lines[0].startswith(f"{UPSTREAM}+"):
        raise SystemExit(
            f"promtool: Debian offers {PACKAGE} {lines[0] if lines else 'nothing'}, not "
            f"{UPSTREAM} (run `apt-get update`; on another release, update UPSTREAM and re-run "
            "the rule tests)"
        )
    return lines[0]


def main() -> int:
    target = Path(sys.executable).parent / "promtool"
    if installed(target):
        return 0
    version = candidate()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["apt-get", "download", "-q", f"{PACKAGE}={version}"], cwd=folder, check=True
        )
        [package] = Path(folder).glob("*.deb")
        subprocess.run(["dpkg-deb", "-x", str(package), f"{folder}/x"], check=True)
        shutil.copy2(f"{folder}/x/usr/bin/promtool", target)
    target.chmod(0o755)
    if not installed(target):
        raise SystemExit(f"promtool: {target} does not report version {UPSTREAM}")
    print(f"installed {target} ({PACKAGE} {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
