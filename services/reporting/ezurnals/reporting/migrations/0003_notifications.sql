-- Family notifications (rule 1). A guardian's own choices, with the contacts they entered
-- themselves (reporting has no other names or contacts; dropped on PersonalDataErased).
CREATE TABLE IF NOT EXISTS notification_preferences (
    guardian_id       UUID        NOT NULL,
    school_id         UUID        NOT NULL,
    email             TEXT,
    phone             TEXT,
    channels          TEXT[]      NOT NULL,
    events            TEXT[]      NOT NULL,
    absence_threshold INTEGER,
    delivery          TEXT        NOT NULL,
    digest_at         TIME        NOT NULL,
    quiet_from        TIME,
    quiet_to          TIME,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (guardian_id, school_id)
);
-- What is to be sent: one row per guardian × source event × channel, queued by the worker's
-- projection and sent by its job; the key is what makes a notification leave at most once.
CREATE TABLE IF NOT EXISTS notification_queue (
    guardian_id     UUID        NOT NULL,
    source_event_id UUID        NOT NULL,
    channel         TEXT        NOT NULL,
    school_id       UUID        NOT NULL,
    student_id      UUID        NOT NULL,
    kind            TEXT        NOT NULL,
    facts           JSONB       NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending',
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error      TEXT,
    PRIMARY KEY (guardian_id, source_event_id, channel)
);
CREATE INDEX IF NOT EXISTS notification_queue_pending ON notification_queue (queued_at)
    WHERE state = 'pending';
-- Written in the NotificationSent append's transaction: a key here was sent.
CREATE TABLE IF NOT EXISTS notification_deliveries (
    guardian_id     UUID        NOT NULL,
    source_event_id UUID        NOT NULL,
    channel         TEXT        NOT NULL,
    notification_id UUID        NOT NULL,
    sent_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (guardian_id, source_event_id, channel)
);
