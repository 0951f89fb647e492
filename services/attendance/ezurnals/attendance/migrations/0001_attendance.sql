-- attendance's own query tables, kept in the append's transaction (read-your-writes), and the
-- documents families attach to excuse requests.

-- A student's facts live in several streams (lesson attendance, excuse requests, the student's
-- own); StudentAbsences is loaded by the student id the payloads carry.
CREATE INDEX events_attendance_student ON events ((payload->>'student_id'), school_id)
    WHERE payload ? 'student_id';

CREATE TABLE excuse_attachments (
    attachment_id  UUID PRIMARY KEY,
    school_id      UUID NOT NULL,
    student_id     UUID NOT NULL,
    uploaded_by    UUID NOT NULL,
    content_type   TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size_bytes     INTEGER NOT NULL,
    content        BYTEA NOT NULL,
    uploaded_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE excuse_requests (
    request_id      UUID PRIMARY KEY,
    school_id       UUID NOT NULL,
    student_id      UUID NOT NULL,
    status          TEXT NOT NULL,
    document_type   TEXT NOT NULL,
    reason          TEXT NOT NULL,
    covers_from     DATE,
    covers_to       DATE,
    lesson_ids      UUID[] NOT NULL DEFAULT '{}',
    attachment_id   UUID,
    submitted_by    UUID NOT NULL,
    submitted_as    TEXT NOT NULL,
    submitted_at    TIMESTAMPTZ NOT NULL,
    decided_by      UUID,
    decided_at      TIMESTAMPTZ,
    rejection_reason TEXT
);
CREATE INDEX excuse_requests_student ON excuse_requests (school_id, student_id);

-- Students with a new absence or accepted excuse whose consequences (AbsenceExcused,
-- AbsenceThresholdReached) are not yet settled; written with the fact, cleared once settled.
CREATE TABLE pending_settlements (
    student_id  UUID PRIMARY KEY,
    school_id   UUID NOT NULL,
    noted_at    TIMESTAMPTZ NOT NULL
);
