-- The school year has one spelling, "2025/2026": report cards issued under the short one
-- ("2025/26") are found under the long one. What was issued (content) stays as issued.
UPDATE report_cards
SET school_year = substr(school_year, 1, 5) || (substr(school_year, 1, 4)::int + 1)::text
WHERE school_year ~ '^\d{4}/\d{2}$';
