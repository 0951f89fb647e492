"""Event contracts: committed schemas are current, changes stay backward-transitive, upcasting."""

from __future__ import annotations

from typing import ClassVar, Literal

import pytest
from pydantic import ValidationError

from ezurnals.shared.contracts.base import (
    EventEnvelope,
    IntegrationEvent,
    Registry,
    UnknownEventType,
)
from ezurnals.shared.contracts.schemas import (
    committed_schemas,
    contract_models,
    export_schemas,
    generate,
    incompatibilities,
)


def test_committed_schemas_match_the_contracts() -> None:
    assert export_schemas(write=False) == [], "run `uv run ezurnals contracts` and commit"


def test_no_committed_contract_version_disappears() -> None:
    current = {(m.event_type, m.schema_version) for m in contract_models()}
    assert set(committed_schemas()) <= current


def test_every_contract_is_immutable_and_round_trips_through_an_envelope() -> None:
    models = contract_models()
    assert len(models) > 40
    for model in models:
        assert model.model_config.get("frozen") is True, model.__name__


class V1(IntegrationEvent):
    service: ClassVar[str] = "test"
    event_type: ClassVar[str] = "Thing"
    n: int
    kind: Literal["a", "b"] = "a"


class AddsOptional(V1):
    note: str = ""


class AddsRequired(V1):
    note: str


class ChangesType(IntegrationEvent):
    service: ClassVar[str] = "test"
    event_type: ClassVar[str] = "Thing"
    n: str
    kind: Literal["a", "b"] = "a"


class DropsEnumValue(IntegrationEvent):
    service: ClassVar[str] = "test"
    event_type: ClassVar[str] = "Thing"
    n: int
    kind: Literal["a"] = "a"


class WidensToOptional(IntegrationEvent):
    service: ClassVar[str] = "test"
    event_type: ClassVar[str] = "Thing"
    n: int | None = None
    kind: Literal["a", "b", "c"] = "a"


def test_adding_an_optional_field_or_widening_is_compatible() -> None:
    assert incompatibilities(generate(AddsOptional), generate(V1)) == []
    assert incompatibilities(generate(WidensToOptional), generate(V1)) == []


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (AddsRequired, "newly required"),
        (ChangesType, "type changed"),
        (DropsEnumValue, "const changed"),
    ],
)
def test_incompatible_changes_are_caught(model: type[IntegrationEvent], problem: str) -> None:
    found = incompatibilities(generate(model), generate(V1))
    assert found and any(problem in p for p in found), found


def test_old_versions_are_upcast_to_the_newest_model() -> None:
    reg = Registry()

    class Moved1(IntegrationEvent):
        service: ClassVar[str] = "test"
        event_type: ClassVar[str] = "Moved"
        schema_version: ClassVar[int] = 1
        to: str

    class Moved2(IntegrationEvent):
        service: ClassVar[str] = "test"
        event_type: ClassVar[str] = "Moved"
        schema_version: ClassVar[int] = 2
        class_id: str
        reason: str

    reg.register(Moved1)
    reg.register(Moved2)
    reg.add_upcaster("Moved", 1, lambda p: {"class_id": p["to"], "reason": "unknown"})
    assert reg.parse("Moved", 1, {"to": "7.b"}) == Moved2(class_id="7.b", reason="unknown")
    assert reg.parse("Moved", 2, {"class_id": "7.a", "reason": "x"}) == Moved2(
        class_id="7.a", reason="x"
    )
    with pytest.raises(UnknownEventType):
        reg.parse("Moved", 3, {})
    with pytest.raises(UnknownEventType):
        reg.parse("Nope", 1, {})


def test_envelope_refuses_bad_metadata_and_payloads_are_validated() -> None:
    with pytest.raises(ValidationError):
        EventEnvelope(event_type="", schema_version=1, stream_id="s", stream_version=1)
    with pytest.raises(ValidationError):
        EventEnvelope(event_type="X", schema_version=0, stream_id="s", stream_version=1)
    env = EventEnvelope(event_type="X", schema_version=1, stream_id="s", stream_version=1)
    assert EventEnvelope.model_validate_json(env.model_dump_json()) == env
    assert env.event_id.version == 7
