-- The grading service's own query tables, kept in step with its events inside the append's
-- transaction (read-your-writes). Other services' facts live in the rm schema (projections.py).

CREATE TABLE IF NOT EXISTS grade_entries (
    grade_id     UUID PRIMARY KEY,
    school_id    UUID NOT NULL,
    class_id     UUID NOT NULL,
    subject_id   UUID NOT NULL,
    school_year  TEXT NOT NULL,
    student_id   UUID NOT NULL,
    lesson_id    UUID,
    term         TEXT NOT NULL,
    given_on     DATE NOT NULL,
    work_title   TEXT NOT NULL,
    work_kind    TEXT NOT NULL,
    summative    BOOLEAN NOT NULL,
    weight       NUMERIC NOT NULL,
    scale        TEXT NOT NULL,
    value        TEXT NOT NULL,
    points       INTEGER,
    recorded_by  UUID NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    -- [{old_value, new_value, reason, corrected_by, corrected_at}], oldest first
    history      JSONB NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX IF NOT EXISTS grade_entries_student ON grade_entries (school_id, student_id);
CREATE INDEX IF NOT EXISTS grade_entries_book ON grade_entries (class_id, subject_id, school_year);

CREATE TABLE IF NOT EXISTS period_grade_entries (
    school_id       UUID NOT NULL,
    class_id        UUID NOT NULL,
    subject_id      UUID NOT NULL,
    school_year     TEXT NOT NULL,
    period          TEXT NOT NULL,
    student_id      UUID NOT NULL,
    scale           TEXT NOT NULL,
    value           TEXT NOT NULL,
    points          INTEGER,
    suggested_value TEXT,
    overridden      BOOLEAN NOT NULL,
    set_by          UUID NOT NULL,
    set_at          TIMESTAMPTZ NOT NULL,
    final           BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (class_id, subject_id, school_year, period, student_id)
);
CREATE INDEX IF NOT EXISTS period_grade_entries_student
    ON period_grade_entries (school_id, student_id);

CREATE TABLE IF NOT EXISTS class_subject_periods (
    school_id    UUID NOT NULL,
    class_id     UUID NOT NULL,
    subject_id   UUID NOT NULL,
    school_year  TEXT NOT NULL,
    period       TEXT NOT NULL,
    locked       BOOLEAN NOT NULL,
    finalized_by UUID,
    finalized_at TIMESTAMPTZ,
    -- [{reason, unlocked_by, unlocked_at}], oldest first
    unlocks      JSONB NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (class_id, subject_id, school_year, period)
);
