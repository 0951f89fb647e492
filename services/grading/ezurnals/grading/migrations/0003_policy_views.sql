-- The school's grading policy as the reads need it (the grade sheet, missing period grades, the
-- policy's GET routes), kept by the policy commands' append (POLICY_VIEWS in projections.py), so
-- no read replays the policy's stream. Filled here from the events already stored.
CREATE TABLE IF NOT EXISTS grade_scales (
    scale_id   UUID PRIMARY KEY,
    school_id  UUID NOT NULL,
    -- the order scales were first defined in, which redefining one keeps
    position   BIGSERIAL,
    -- the latest GradeScaleDefined payload
    definition JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS grade_scales_school ON grade_scales (school_id, position);

CREATE TABLE IF NOT EXISTS period_grade_deadlines (
    school_id   UUID NOT NULL,
    school_year TEXT NOT NULL,
    period      TEXT NOT NULL,
    -- '' for the whole school, 'first-last' for a grade band
    band_key    TEXT NOT NULL,
    -- the latest PeriodGradeDeadlineSet payload, at its current schema version
    deadline    JSONB NOT NULL,
    PRIMARY KEY (school_id, school_year, period, band_key)
);

CREATE TABLE IF NOT EXISTS semester_grades_usage (
    school_id UUID PRIMARY KEY,
    used      BOOLEAN NOT NULL
);

CREATE FUNCTION pg_temp.deadline_year(short TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN short ~ '^\d{4}/\d{2}$'
               THEN left(short, 5) || lpad((left(short, 4)::int + 1)::text, 4, '0')
               ELSE short END $$;

INSERT INTO grade_scales (scale_id, school_id, definition)
SELECT scale_id, school_id, payload FROM (
    SELECT DISTINCT ON (payload->>'scale_id') (payload->>'scale_id')::uuid AS scale_id,
           (payload->>'school_id')::uuid AS school_id, payload, tx_id, position AS at
    FROM events WHERE event_type = 'GradeScaleDefined'
    ORDER BY payload->>'scale_id', tx_id::text::bigint, position
) AS first_defined
ORDER BY tx_id::text::bigint, at
ON CONFLICT (scale_id) DO NOTHING;

UPDATE grade_scales s SET definition = latest.payload
FROM (SELECT DISTINCT ON (payload->>'scale_id') payload->>'scale_id' AS scale_id, payload
      FROM events WHERE event_type = 'GradeScaleDefined'
      ORDER BY payload->>'scale_id', tx_id::text::bigint DESC, position DESC) AS latest
WHERE s.scale_id::text = latest.scale_id;

INSERT INTO period_grade_deadlines
SELECT DISTINCT ON (1, 2, 3, 4) (payload->>'school_id')::uuid,
       pg_temp.deadline_year(payload->>'school_year'), payload->>'period',
       coalesce((payload->'band'->>'first') || '-' || (payload->'band'->>'last'), ''),
       jsonb_set(payload, '{school_year}', to_jsonb(pg_temp.deadline_year(payload->>'school_year')))
FROM events WHERE event_type = 'PeriodGradeDeadlineSet'
ORDER BY 1, 2, 3, 4, tx_id::text::bigint DESC, position DESC
ON CONFLICT DO NOTHING;

INSERT INTO semester_grades_usage
SELECT DISTINCT ON (1) (payload->>'school_id')::uuid, (payload->>'used')::boolean
FROM events WHERE event_type = 'SemesterGradesUsageSet'
ORDER BY 1, tx_id::text::bigint DESC, position DESC
ON CONFLICT DO NOTHING;
