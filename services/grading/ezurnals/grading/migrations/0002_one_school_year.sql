-- The school year has one spelling, "2025/2026" (grading wrote "2025/26" before): the grade
-- books' streams and the service's own views are re-keyed, so a book keeps its history under
-- the new key. The events' payloads stay as written; their v1 is upcast when read. The read
-- models in rm are rebuilt from identity's events (`ezurnals rebuild grading`).
CREATE FUNCTION pg_temp.long_year(short TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS
$$ SELECT left(short, 5) || lpad((left(short, 4)::int + 1)::text, 4, '0') $$;

UPDATE events
SET stream_id = left(stream_id, length(stream_id) - 7) || pg_temp.long_year(right(stream_id, 7))
WHERE stream_id ~ '^grade-book:.*:\d{4}/\d{2}$';

UPDATE grade_entries SET school_year = pg_temp.long_year(school_year)
WHERE school_year ~ '^\d{4}/\d{2}$';
UPDATE period_grade_entries SET school_year = pg_temp.long_year(school_year)
WHERE school_year ~ '^\d{4}/\d{2}$';
UPDATE class_subject_periods SET school_year = pg_temp.long_year(school_year)
WHERE school_year ~ '^\d{4}/\d{2}$';
