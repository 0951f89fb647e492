-- The daily attendance report each school gets at its set time (e.g. for the canteen): made once
-- per school and day by the worker's job; the primary key is what makes it once, also across
-- restarts and several workers.
CREATE TABLE daily_reports (
    school_id     UUID NOT NULL,
    report_date   DATE NOT NULL,
    generated_at  TIMESTAMPTZ NOT NULL,
    csv           TEXT NOT NULL,
    PRIMARY KEY (school_id, report_date)
);
