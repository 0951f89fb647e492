"""Consultation and parent-conversation notes: same day until 20:00, later only by override."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from ezurnals.lessons.domain import (
    DEFAULT_SCHEDULE,
    Consultation,
    RecordConsultation,
    SchoolCalendar,
)
from ezurnals.shared.contracts.lessons import ConsultationKind, ConsultationRecorded
from ezurnals.shared.domain import Conflict, Forbidden, Invalid

Clock = Callable[..., datetime]
HELD_ON = date(2026, 3, 30)  # the first Monday of summer time


def note(**changes: object) -> RecordConsultation:
    fields: dict[str, object] = {
        "consultation_id": uuid4(),
        "school_id": uuid4(),
        "kind": ConsultationKind.PARENT_CONVERSATION,
        "participant_ids": (uuid4(), uuid4()),
        "summary": "Pārrunāta kavējumu situācija",
        "held_on": HELD_ON,
        "recorded_by": uuid4(),
    }
    return RecordConsultation.model_validate(fields | changes)


def test_a_note_until_20_00_is_recorded(riga: ZoneInfo, at_riga: Clock) -> None:
    # given a conversation held today
    cmd = note()
    # when the note is entered at 20:00 local
    events = Consultation("c").record(cmd, at_riga(HELD_ON, 20, 0), DEFAULT_SCHEDULE, riga)
    # then it is recorded without an override
    assert len(events) == 1
    recorded = events[0]
    assert isinstance(recorded, ConsultationRecorded)
    assert recorded.kind is ConsultationKind.PARENT_CONVERSATION
    assert recorded.participant_ids == cmd.participant_ids
    assert recorded.override_reason is None


def test_after_the_cut_off_the_note_is_refused_naming_it(riga: ZoneInfo, at_riga: Clock) -> None:
    # given a conversation held today
    # when the note is entered at 20:01, or the next morning
    for now in (at_riga(HELD_ON, 20, 1), at_riga(date(2026, 3, 31), 8)):
        with pytest.raises(Invalid) as err:
            Consultation("c").record(note(), now, DEFAULT_SCHEDULE, riga)
        # then it is refused with the rule and the cut-off time
        assert err.value.code == "consultation_cutoff_passed"
        assert err.value.field == "held_on"
        assert "20:00" in err.value.message
        assert err.value.details["cutoff_local_time"] == "20:00"
        assert err.value.details["cutoff"] == "2026-03-30T17:00:00+00:00"


def test_a_deputy_director_may_override_with_a_reason(riga: ZoneInfo, at_riga: Clock) -> None:
    # given a note entered the day after
    cmd = note(override_reason="  Vecāki ieradās vēlu vakarā  ")
    # when a deputy director enters it
    events = Consultation("c").record(
        cmd, at_riga(date(2026, 3, 31), 9), DEFAULT_SCHEDULE, riga, deputy_director=True
    )
    # then it is recorded with the reason kept
    assert isinstance(events[0], ConsultationRecorded)
    assert events[0].override_reason == "Vecāki ieradās vēlu vakarā"


def test_only_a_deputy_director_may_override(riga: ZoneInfo, at_riga: Clock) -> None:
    # given a late note with a reason
    cmd = note(override_reason="Aizmirsu")
    late = at_riga(date(2026, 3, 31), 9)
    # when a teacher enters it, or a deputy director with a blank reason
    with pytest.raises(Forbidden):
        Consultation("c").record(cmd, late, DEFAULT_SCHEDULE, riga)
    with pytest.raises(Invalid) as err:
        Consultation("c").record(
            note(override_reason=" "), late, DEFAULT_SCHEDULE, riga, deputy_director=True
        )
    # then both are refused
    assert err.value.field == "override_reason"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"summary": "  "}, "summary"),
        ({"participant_ids": ()}, "participant_ids"),
        ({"held_on": date(2026, 3, 31)}, "held_on"),
    ],
)
def test_a_note_needs_a_summary_participants_and_a_past_day(
    riga: ZoneInfo, at_riga: Clock, changes: dict[str, object], field: str
) -> None:
    # given a note without summary, without participants, or for tomorrow
    # when it is entered
    with pytest.raises(Invalid) as err:
        Consultation("c").record(note(**changes), at_riga(HELD_ON, 15), DEFAULT_SCHEDULE, riga)
    # then the field is named
    assert err.value.field == field


def test_a_note_is_recorded_once(riga: ZoneInfo, at_riga: Clock) -> None:
    # given a recorded note
    cmd = note()
    consultation = Consultation("c")
    consultation.applied(consultation.record(cmd, at_riga(HELD_ON, 15), DEFAULT_SCHEDULE, riga))
    # when it is recorded again
    with pytest.raises(Conflict):
        consultation.record(cmd, at_riga(HELD_ON, 16), DEFAULT_SCHEDULE, riga)
    # then the first note stands
    assert consultation.note is not None and consultation.note.summary == cmd.summary


def test_a_deputy_may_not_override_a_note_into_another_school_year(
    riga: ZoneInfo, at_riga: Clock, calendar_2025_26: SchoolCalendar
) -> None:
    # given a note of 2021, allowed late by the deputy director
    cmd = note(held_on=date(2021, 3, 29), override_reason="aizmirsu")
    # when it is recorded in the 2025/26 year
    with pytest.raises(Invalid) as err:
        Consultation("c").record(
            cmd,
            at_riga(HELD_ON, 15),
            DEFAULT_SCHEDULE,
            riga,
            deputy_director=True,
            calendar=calendar_2025_26,
        )
    # then the day and the year's range are named
    assert err.value.field == "held_on"
    assert "2025-09-01 to 2026-06-19" in err.value.message
