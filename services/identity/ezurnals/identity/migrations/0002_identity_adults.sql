-- Students who came of age (StudentCameOfAge): the coming-of-age job skips them, so a restarted
-- worker publishes nothing twice and needs no memory of its own.
CREATE TABLE came_of_age (
    student_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    adult_from DATE NOT NULL
);
