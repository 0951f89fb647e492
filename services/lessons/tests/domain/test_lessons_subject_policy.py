"""Subjects with curriculum hours, and the school's versioned entry-deadline policy."""

from __future__ import annotations

from datetime import date, time
from uuid import uuid4

import pytest

from ezurnals.lessons.domain import (
    DEFAULT_DEADLINE_RULES,
    DEFAULT_SCHEDULE,
    DeadlinePolicy,
    DefineSubject,
    SetEntryDeadlinePolicy,
    Subject,
)
from ezurnals.shared.contracts.lessons import (
    EntryDeadlinePolicySet,
    GradeBandDeadline,
    SubjectDefined,
)
from ezurnals.shared.domain import Conflict, Invalid

SCHOOL = uuid4()
SEED_BANDS = DEFAULT_DEADLINE_RULES.deadlines


def maths(**changes: object) -> DefineSubject:
    fields: dict[str, object] = {
        "subject_id": uuid4(),
        "school_id": SCHOOL,
        "name_key": "matematika",
        "name": "Matemātika",
        "curriculum_hours": {1: 140, 2: 175},
    }
    return DefineSubject.model_validate(fields | changes)


def test_a_subject_carries_its_curriculum_hours_per_grade() -> None:
    # given a new subject
    subject = Subject("s")
    # when it is defined with hours for grades 1 and 2
    events = subject.define(maths())
    subject.applied(events)
    # then report cards can read the hours of each grade, and none for grade 3
    assert [type(e) for e in events] == [SubjectDefined]
    assert (subject.hours_for(1), subject.hours_for(2), subject.hours_for(3)) == (140, 175, None)
    assert subject.name == "Matemātika"


def test_redefining_a_subject_changes_only_what_differs() -> None:
    # given a defined subject
    cmd = maths()
    subject = Subject("s")
    subject.applied(subject.define(cmd))
    # when it is defined again unchanged, then with new hours, then by another school
    unchanged = subject.define(cmd)
    changed = subject.define(cmd.model_copy(update={"curriculum_hours": {1: 105}}))
    subject.applied(changed)
    # then only the change is an event, and another school is told the id is taken
    assert unchanged == []
    assert subject.curriculum_hours == {1: 105}
    with pytest.raises(Conflict) as err:
        subject.define(cmd.model_copy(update={"school_id": uuid4()}))
    assert (err.value.code, err.value.field) == ("id_in_use", "subject_id")
    assert "school" not in err.value.message, "nothing said of the other holder"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"name": "  "}, "name"), ({"curriculum_hours": {5: -1}}, "curriculum_hours")],
)
def test_a_subject_needs_a_name_and_sensible_hours(changes: dict[str, object], field: str) -> None:
    # given a subject without a name, or with negative hours
    # when it is defined
    with pytest.raises(Invalid) as err:
        Subject("s").define(maths(**changes))
    # then the field is named
    assert err.value.field == field


def policy_from(start: date, band_1_6: time) -> SetEntryDeadlinePolicy:
    return SetEntryDeadlinePolicy(
        school_id=SCHOOL,
        effective_from=start,
        deadlines=(
            GradeBandDeadline(first_grade=1, last_grade=6, deadline=band_1_6),
            GradeBandDeadline(first_grade=7, last_grade=12, deadline=time(16, 0)),
        ),
        consultation_cutoff=time(20, 0),
    )


def test_a_school_without_a_policy_uses_the_seed_rules() -> None:
    # given a school that never set a policy
    policy = DeadlinePolicy("p")
    # when its schedule is read
    # then it is the seed rules of 17.09.2020
    assert policy.schedule == DEFAULT_SCHEDULE
    assert policy.schedule.rules_on(date(2026, 1, 5)).deadlines == SEED_BANDS


def test_a_new_version_takes_effect_from_its_date() -> None:
    # given a school on the seed rules
    policy = DeadlinePolicy("p")
    # when a 14:30 deadline for grades 1–6 is set from 1 October 2025
    events = policy.set(policy_from(date(2025, 10, 1), time(14, 30)), date(2025, 9, 1))
    policy.applied(events)
    # then September keeps the seed's 15:00 and October has 14:30
    assert [type(e) for e in events] == [EntryDeadlinePolicySet]
    assert policy.schedule.rules_on(date(2025, 9, 30)).entry_deadline_time(3) == time(15, 0)
    assert policy.schedule.rules_on(date(2025, 10, 1)).entry_deadline_time(3) == time(14, 30)


def test_a_version_in_force_is_not_rewritten() -> None:
    # given a school whose own policy has been in force since 1 September 2025
    own = policy_from(date(2025, 9, 1), time(14, 0))
    policy = DeadlinePolicy.rehydrate("p", [EntryDeadlinePolicySet(**own.model_dump())])
    # when a change is set to start yesterday
    with pytest.raises(Invalid) as err:
        policy.set(policy_from(date(2025, 9, 30), time(13, 0)), date(2025, 10, 1))
    # then it is refused, and the same version again is no event
    assert err.value.field == "effective_from"
    assert policy.set(own, date(2025, 9, 1)) == []
    # and days before the school's first version keep the seed rules
    assert policy.schedule.rules_on(date(2025, 8, 29)) == DEFAULT_DEADLINE_RULES


def test_bands_must_cover_every_grade() -> None:
    # given bands that leave out grade 7
    cmd = policy_from(date(2026, 1, 1), time(15, 0)).model_copy(
        update={
            "deadlines": (
                GradeBandDeadline(first_grade=1, last_grade=6, deadline=time(15, 0)),
                GradeBandDeadline(first_grade=8, last_grade=12, deadline=time(16, 0)),
            )
        }
    )
    # when the policy is set
    with pytest.raises(Invalid) as err:
        DeadlinePolicy("p").set(cmd, date(2025, 9, 1))
    # then the deadlines are named
    assert err.value.field == "deadlines"


def test_a_new_school_adopts_the_seed_rules_once_and_a_school_with_its_own_version_none() -> None:
    # given a school lessons has just heard of
    fresh = DeadlinePolicy("p")
    # when it adopts the seed rules
    events = fresh.adopt_seed_rules(SCHOOL)
    # then they are recorded as its first version, the rules in force being unchanged
    assert [(e.effective_from, e.deadlines) for e in events] == [
        (DEFAULT_DEADLINE_RULES.effective_from, SEED_BANDS)
    ]
    assert fresh.applied(events).schedule == DEFAULT_SCHEDULE
    assert fresh.adopt_seed_rules(SCHOOL) == []
    own = policy_from(date(2025, 9, 1), time(14, 0))
    decided = DeadlinePolicy.rehydrate("p", DeadlinePolicy("p").set(own, date(2025, 9, 1)))
    assert decided.adopt_seed_rules(SCHOOL) == []
