-- The lessons service's own query tables, kept in step with its events inside the append's
-- transaction (read-your-writes). The event streams stay the source of truth.

CREATE TABLE IF NOT EXISTS subjects (
    subject_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    curriculum_hours JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS subjects_school ON subjects (school_id, name_key);

CREATE TABLE IF NOT EXISTS timetables (
    timetable_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    class_id UUID NOT NULL,
    school_year TEXT NOT NULL,
    grade_level INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS timetables_school ON timetables (school_id, class_id);

CREATE TABLE IF NOT EXISTS lessons (
    lesson_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    timetable_id UUID NOT NULL,
    slot_id UUID NOT NULL,
    class_id UUID NOT NULL,
    subject_id UUID NOT NULL,
    teacher_id UUID NOT NULL,
    substitute_teacher_id UUID,
    lesson_date DATE NOT NULL,
    starts_at TIME NOT NULL,
    ends_at TIME NOT NULL,
    period INTEGER NOT NULL,
    room TEXT,
    grade_level INTEGER NOT NULL,
    cancelled BOOLEAN NOT NULL DEFAULT false,
    cancel_reason TEXT,
    recorded BOOLEAN NOT NULL DEFAULT false,
    topic TEXT,
    homework JSONB,
    no_homework BOOLEAN NOT NULL DEFAULT false,
    late BOOLEAN NOT NULL DEFAULT false,
    minutes_late INTEGER NOT NULL DEFAULT 0,
    overdue BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS lessons_class_day ON lessons (class_id, lesson_date);
CREATE INDEX IF NOT EXISTS lessons_teacher_day ON lessons (teacher_id, lesson_date);
CREATE INDEX IF NOT EXISTS lessons_open ON lessons (lesson_date)
    WHERE NOT recorded AND NOT cancelled AND NOT overdue;

CREATE TABLE IF NOT EXISTS consultations (
    consultation_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    kind TEXT NOT NULL,
    participant_ids UUID[] NOT NULL,
    summary TEXT NOT NULL,
    held_on DATE NOT NULL,
    recorded_by UUID NOT NULL,
    override_reason TEXT
);
CREATE INDEX IF NOT EXISTS consultations_school_day ON consultations (school_id, held_on);

CREATE TABLE IF NOT EXISTS briefing_types (
    briefing_type_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS briefing_types_school ON briefing_types (school_id, name_key);

CREATE TABLE IF NOT EXISTS briefings (
    briefing_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    briefing_type_id UUID NOT NULL,
    class_id UUID,
    student_ids UUID[] NOT NULL,
    conducted_on DATE NOT NULL,
    conducted_by UUID NOT NULL,
    topic TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS briefings_school_type ON briefings (school_id, briefing_type_id);

CREATE TABLE IF NOT EXISTS briefing_acknowledgements (
    briefing_id UUID NOT NULL,
    student_id UUID NOT NULL,
    how TEXT NOT NULL,
    recorded_by UUID NOT NULL,
    PRIMARY KEY (briefing_id, student_id)
);
