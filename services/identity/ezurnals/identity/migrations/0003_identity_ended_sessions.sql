-- Which tokens identity itself refuses, read on every request from its own query tables (kept in
-- the append's transaction by SessionRevoked): a session that was signed out, and for a person
-- signed out everywhere, every token issued up to that instant. A revoked person is
-- accounts.revoked.
ALTER TABLE accounts ADD COLUMN signed_out_before TIMESTAMPTZ;

CREATE TABLE ended_sessions (
    session_id UUID PRIMARY KEY,
    person_id UUID NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL
);
