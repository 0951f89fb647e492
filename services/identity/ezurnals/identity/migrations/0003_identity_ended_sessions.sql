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

-- What identity's events already say, as a replay through the projection would write it.
INSERT INTO ended_sessions (session_id, person_id, ended_at)
SELECT (payload->>'session_id')::uuid, (payload->>'person_id')::uuid,
       (payload->>'revoked_at')::timestamptz
FROM events
WHERE event_type = 'SessionRevoked' AND payload->>'session_id' IS NOT NULL
ON CONFLICT DO NOTHING;

UPDATE accounts a SET signed_out_before = everywhere.before
FROM (SELECT (payload->>'person_id')::uuid AS person_id,
             max((payload->>'revoked_at')::timestamptz) AS before
      FROM events
      WHERE event_type = 'SessionRevoked' AND payload->>'session_id' IS NULL
      GROUP BY 1) everywhere
WHERE a.person_id = everywhere.person_id;
