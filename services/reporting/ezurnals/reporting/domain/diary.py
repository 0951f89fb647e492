"""What the diary says about an attendance mark's excuse."""

from __future__ import annotations

from enum import StrEnum


class ExcuseState(StrEnum):
    #: The code itself excuses (e.g. illness) or an accepted document did.
    EXCUSED = "excused"
    #: A family's excuse request covers it and waits for the class teacher.
    PENDING = "pending"
    #: The request was rejected; the absence stays unexcused.
    REJECTED = "rejected"
    UNEXCUSED = "unexcused"


def excuse_state(
    *, excused_by_code: bool, excused: bool, pending: bool, rejected: bool
) -> ExcuseState:
    if excused_by_code or excused:
        return ExcuseState.EXCUSED
    if pending:
        return ExcuseState.PENDING
    if rejected:
        return ExcuseState.REJECTED
    return ExcuseState.UNEXCUSED
