-- Monthly statements issued (StatementIssued), with the content the PDF is rendered from.
-- Written in the append's transaction, so a re-run sees what it issued before.
CREATE TABLE IF NOT EXISTS statements (
    student_id     UUID        NOT NULL,
    month          TEXT        NOT NULL,
    school_id      UUID        NOT NULL,
    class_id       UUID        NOT NULL,
    statement_id   UUID        NOT NULL,
    version        INTEGER     NOT NULL,
    content        JSONB       NOT NULL,
    content_sha256 TEXT        NOT NULL,
    issued_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (student_id, month)
);
CREATE INDEX IF NOT EXISTS statements_class_month ON statements (class_id, month);
CREATE INDEX IF NOT EXISTS statements_school_month ON statements (school_id, month);
