"""Refuse a production rendering that is not releasable: run by the release pipeline after it has
pinned the image (``kustomize edit set image ...@sha256:...``), before ``kubectl apply``.

Checks that every container running the service's image in the prod overlay names a registry
(never Docker Hub's library by accident), is pinned by an image digest, and is not the example
registry left in the repository; and that the Dockerfile's base image is pinned by digest.
Exit 0 when releasable, 1 with one line per problem otherwise.

    python deploy/tools/release_check.py [rendered-prod.yaml]
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICE_IMAGE = "parcel-clearance"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
EXAMPLE_REGISTRY = "registry.example.com"


def image_problems(images: Iterable[str]) -> list[str]:
    """What keeps these image references of the service from a release."""
    problems = []
    for image in images:
        registry = image.split("/", 1)[0]
        if "/" not in image or not ("." in registry or ":" in registry):
            problems.append(f"{image}: no registry (would resolve to Docker Hub)")
        if registry == EXAMPLE_REGISTRY:
            problems.append(f"{image}: the example registry; set yours in overlays/prod")
        if not DIGEST.search(image):
            problems.append(f"{image}: not pinned by digest (@sha256:...)")
    return problems


def base_image_problems(dockerfile: str) -> list[str]:
    """The Dockerfile's base image must carry a digest."""
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M) or [""]
    return [] if DIGEST.search(base) else [f"deploy/Dockerfile: base image {base!r} has no digest"]


def service_images(docs: Iterable[dict[str, Any]]) -> list[str]:
    """Images of the containers running the service in rendered manifests."""
    found = []
    for doc in docs:
        if doc.get("kind") in {"Deployment", "Job"}:
            for container in doc["spec"]["template"]["spec"]["containers"]:
                if SERVICE_IMAGE in container["image"].rsplit("/", 1)[-1]:
                    found.append(container["image"])
    return found


def main(argv: list[str]) -> int:
    if argv:
        text = Path(argv[0]).read_text()
    else:
        text = subprocess.run(
            ["kubectl", "kustomize", str(ROOT / "deploy/k8s/overlays/prod")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    problems = image_problems(sorted(set(service_images(docs))))
    problems += base_image_problems((ROOT / "deploy/Dockerfile").read_text())
    for problem in problems:
        print(f"not releasable: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
