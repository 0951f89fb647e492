-- Report cards issued (ReportCardIssued), with the content the PDF is rendered from.
-- Written in the append's transaction, so a re-issue sees what was issued before.
CREATE TABLE IF NOT EXISTS report_cards (
    student_id     UUID        NOT NULL,
    school_year    TEXT        NOT NULL,
    period         TEXT        NOT NULL,
    school_id      UUID        NOT NULL,
    class_id       UUID        NOT NULL,
    report_card_id UUID        NOT NULL,
    version        INTEGER     NOT NULL,
    content        JSONB       NOT NULL,
    content_sha256 TEXT        NOT NULL,
    issued_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (student_id, school_year, period)
);
CREATE INDEX IF NOT EXISTS report_cards_class ON report_cards (class_id, period);
