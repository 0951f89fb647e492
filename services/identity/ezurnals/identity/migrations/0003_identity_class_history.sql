-- The personal file's whole enrolment history (rule 7): one row for each time a student was in a
-- class (or, class_id NULL, had left: withdrawn or graduated). `enrolments` keeps only the class
-- now; a move within a year used to overwrite the earlier class there.
-- until: the day the student left the class within the year; NULL: stayed to the year's end.
CREATE TABLE class_history (
    position BIGSERIAL PRIMARY KEY,
    student_id UUID NOT NULL,
    school_year TEXT NOT NULL,
    school_id UUID NOT NULL,
    class_id UUID,
    since DATE NOT NULL,
    until DATE
);
CREATE INDEX class_history_student ON class_history (student_id, school_year);

-- What the rows of `enrolments` still tell (the earlier classes of a move are lost there).
INSERT INTO class_history (student_id, school_year, school_id, class_id, since)
SELECT student_id, school_year, school_id, class_id, since FROM enrolments
ORDER BY school_year, since;
