"""The SLOs and alerts of deploy/k8s/components/monitoring: unit-tested with `promtool test rules`
(the pinned promtool that `make tools` installs), written against metrics the code defines, each
pointing to a runbook section that exists, and a dashboard that queries only those metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy/k8s/components/monitoring"
METRIC = re.compile(r"\b(clearance_[a-z_]+)")


def _promtool() -> str:
    found = shutil.which("promtool") or str(Path(sys.executable).parent / "promtool")
    if not Path(found).exists():
        pytest.fail("no promtool: run `make tools` (it takes Debian's, pinned)")
    return found


def _rule() -> dict[str, Any]:
    rule: dict[str, Any] = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    return rule


def _expressions() -> list[str]:
    rules = [r for group in _rule()["spec"]["groups"] for r in group["rules"]]
    dashboard = json.loads((MONITORING / "dashboards/clearance.json").read_text())
    targets = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return [str(r["expr"]) for r in rules] + targets


def test_the_alert_rules_pass_their_promtool_unit_tests(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _rule()["spec"]["groups"]}))
    shutil.copy(MONITORING / "alerts.test.yaml", tmp_path / "alerts.test.yaml")
    check = subprocess.run(
        [_promtool(), "check", "rules", "rules.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tested = subprocess.run(
        [_promtool(), "test", "rules", "alerts.test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_test_and_a_runbook_section() -> None:
    alerts = {
        r["alert"]: r for group in _rule()["spec"]["groups"] for r in group["rules"] if "alert" in r
    }
    tests = yaml.safe_load((MONITORING / "alerts.test.yaml").read_text())["tests"]
    tested = {case["alertname"] for t in tests for case in t.get("alert_rule_test", [])}
    assert tested == set(alerts)
    firing = {
        case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]
    }
    assert firing == set(alerts)  # each one is shown to fire, not only to stay quiet
    readme = (ROOT / "deploy/README.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in readme.splitlines()
        if line.startswith("#")
    }
    for name, alert in alerts.items():
        link = alert["annotations"]["runbook"]
        assert link.startswith("deploy/README.md#"), name
        assert link.split("#", 1)[1] in anchors, f"{name}: no section {link} in deploy/README.md"


def test_rules_and_dashboard_use_only_metrics_the_code_defines() -> None:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    defined = {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes[family.type]
    }
    used = {name for expr in _expressions() for name in METRIC.findall(expr)}
    assert used and used <= defined, used - defined
    for required in (
        "clearance_consumer_lag",
        "clearance_partition_stalled_seconds",
        "clearance_dead_letters_total",
        "clearance_rebalances_total",
        "clearance_batch_retries_total",
        "clearance_end_to_end_seconds_bucket",
        "clearance_http_requests_total",
    ):
        assert required in used, required


def test_the_histogram_bucket_the_latency_slo_reads_exists() -> None:
    metrics = Metrics()
    metrics.end_to_end_seconds.observe(0.2)
    assert 'clearance_end_to_end_seconds_bucket{le="1.0"} 1.0' in metrics.render().decode()
    assert any('le="1.0"' in expr for expr in _expressions())


def test_the_dashboard_is_grafana_json_shipped_as_a_configmap() -> None:
    dashboard = json.loads((MONITORING / "dashboards/clearance.json").read_text())
    assert dashboard["uid"] == "parcel-clearance" and len(dashboard["panels"]) >= 10
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    component = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    [generator] = component["configMapGenerator"]
    assert generator["files"] == ["dashboards/clearance.json"]
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}
