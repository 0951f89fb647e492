-- The spine: the event store, the outbox, command idempotency and the relay's record.

CREATE TABLE events (
    position        BIGSERIAL PRIMARY KEY,
    tx_id           XID8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        UUID NOT NULL UNIQUE,
    stream_id       TEXT NOT NULL,
    stream_version  INTEGER NOT NULL CHECK (stream_version >= 1),
    event_type      TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    school_id       UUID,
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    actor           JSONB NOT NULL,
    correlation_id  UUID,
    causation_id    UUID,
    payload         JSONB NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_commit_order ON events (tx_id, position);

-- Rows are deleted by the relay once Kafka has acknowledged them (claimed with SKIP LOCKED),
-- so a row that commits late is simply picked up by a later batch: nothing is skipped.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    event_id    UUID NOT NULL,
    topic       TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BYTEA NOT NULL,
    headers     JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE command_results (
    key           TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE relay_state (
    id                  INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    published_total     BIGINT NOT NULL DEFAULT 0,
    last_event_id       UUID,
    last_published_at   TIMESTAMPTZ
);
INSERT INTO relay_state (id) VALUES (1);

-- Read side, shared by every consumer of this service: where each partition stands and what was
-- dead-lettered (the event, the error, where it came from) for operators to inspect and replay.
CREATE TABLE consumer_state (
    consumer    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    position    BIGINT NOT NULL,
    lag         BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);

CREATE TABLE dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    consumer    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    "offset"    BIGINT NOT NULL,
    event_id    UUID,
    event_type  TEXT,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
