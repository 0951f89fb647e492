"""Identity's pure domain: who is who at a school, and who may see what.

Aggregates (one stream each, named after the school — see ``scoped``): ``School`` (calendar,
classes, password policies), ``SchoolRoll`` (enrolment of one school year), ``Person`` (sealed
personal file), ``Account`` (activation, passwords, sign-in), ``Employment``, ``Guardianship``
(per student) and ``ClassStaffing`` (class teacher and teaching assignments per class).
Pure rules: ``passwords``, ``access``, ``personal_code`` and ``student_import`` (CSV checks).
"""
