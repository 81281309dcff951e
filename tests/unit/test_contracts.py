"""contracts/ is generated from the code and committed: a stale file fails the build."""

from __future__ import annotations

import json
from pathlib import Path

from clearance.devtools.commands.contracts_cmd import stale_files
from clearance.devtools.contracts import EXAMPLES, TOPICS, generate

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def test_committed_contracts_equal_what_the_code_generates() -> None:
    assert stale_files(CONTRACTS) == [], "run `clearance contracts generate` and commit"


def test_a_changed_file_is_reported_stale(tmp_path: Path) -> None:
    for relative, text in generate().items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    assert stale_files(tmp_path) == []
    (tmp_path / "schemas" / "order.placed.json").write_text("{}")
    assert stale_files(tmp_path) == ["schemas/order.placed.json"]


def test_asyncapi_names_every_topic_and_message() -> None:
    document = json.loads(generate()["asyncapi.json"])
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(TOPICS)
    names = {message["name"] for message in document["components"]["messages"].values()}
    assert names == set(EXAMPLES)


def test_money_schema_is_a_string_never_a_number() -> None:
    schema = json.loads(generate()["schemas/order.placed.json"])
    unit_price = schema["$defs"]["Item"]["properties"]["unit_price"]
    assert unit_price["type"] == "string"
