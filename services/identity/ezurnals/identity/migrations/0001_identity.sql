-- Identity's query tables, kept in step with its events inside the append's transaction
-- (directory.py), plus the secrets that never leave this database: per-person keys, logins,
-- refresh tokens.

CREATE TABLE schools (
    school_id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);

CREATE TABLE school_years (
    school_id UUID NOT NULL,
    school_year TEXT NOT NULL,
    first_day DATE NOT NULL,
    last_day DATE NOT NULL,
    PRIMARY KEY (school_id, school_year)
);

CREATE TABLE classes (
    class_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    school_year TEXT NOT NULL,
    grade_level INTEGER NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX classes_school ON classes (school_id, school_year);

-- Personal data stays sealed with the person's key (person_keys); erasure deletes the key.
CREATE TABLE people (
    person_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    sealed TEXT,
    registered_at TIMESTAMPTZ NOT NULL,
    erased_at TIMESTAMPTZ
);
CREATE INDEX people_school ON people (school_id);

CREATE TABLE person_keys (
    person_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    key BYTEA NOT NULL
);

CREATE TABLE logins (
    username TEXT PRIMARY KEY,
    person_id UUID NOT NULL UNIQUE,
    school_id UUID NOT NULL
);

CREATE TABLE staff (
    person_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    roles TEXT[] NOT NULL,
    hired_on DATE NOT NULL,
    ended_on DATE
);
CREATE INDEX staff_school ON staff (school_id);

-- One row per student and school year: the class now (NULL once withdrawn).
CREATE TABLE enrolments (
    student_id UUID NOT NULL,
    school_year TEXT NOT NULL,
    school_id UUID NOT NULL,
    class_id UUID,
    since DATE NOT NULL,
    PRIMARY KEY (student_id, school_year)
);
CREATE INDEX enrolments_class ON enrolments (class_id);

CREATE TABLE guardians (
    student_id UUID NOT NULL,
    guardian_id UUID NOT NULL,
    school_id UUID NOT NULL,
    restricted BOOLEAN NOT NULL,
    kept_by_student BOOLEAN,
    PRIMARY KEY (student_id, guardian_id)
);
CREATE INDEX guardians_guardian ON guardians (guardian_id);

CREATE TABLE class_teachers (
    class_id UUID NOT NULL,
    valid_from DATE NOT NULL,
    school_id UUID NOT NULL,
    teacher_id UUID NOT NULL,
    PRIMARY KEY (class_id, valid_from)
);

CREATE TABLE teaching (
    assignment_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    class_id UUID NOT NULL,
    teacher_id UUID NOT NULL,
    subject_id UUID NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    substitute BOOLEAN NOT NULL
);
CREATE INDEX teaching_class ON teaching (class_id);
CREATE INDEX teaching_teacher ON teaching (teacher_id);

CREATE TABLE accounts (
    person_id UUID PRIMARY KEY,
    school_id UUID NOT NULL,
    activated_at TIMESTAMPTZ,
    password_set_at TIMESTAMPTZ,
    revoked BOOLEAN NOT NULL DEFAULT false
);

-- The pending activation code of a person, found by its digest (the code itself is never kept).
CREATE TABLE access_codes (
    code_hash TEXT PRIMARY KEY,
    person_id UUID NOT NULL UNIQUE,
    school_id UUID NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Rotating refresh tokens: one family per sign-in; presenting a used one revokes the family.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id UUID NOT NULL,
    session_id UUID NOT NULL,
    person_id UUID NOT NULL,
    school_id UUID NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_person ON refresh_tokens (person_id);

-- Failed sign-ins per client address, for the per-address limit.
CREATE TABLE sign_in_failures (
    address TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, failed_at);
