"""Grade values per scale: what parses, what it counts as, and how an off-scale value is refused."""

from __future__ import annotations

import pytest

from ezurnals.grading.domain import (
    DEFAULT_LEVEL_BANDS,
    DEFAULT_PERCENT_TABLE,
    GradeScale,
    GradeValue,
    level_for_points,
    points_for_percent,
)
from ezurnals.grading.domain.scales import (
    LEARNING_LEVELS,
    PASS_FAIL,
    PERCENT,
    TEN_POINT,
    check_level_bands,
    check_percent_table,
)
from ezurnals.shared.contracts.grading import LevelBand, PercentBand, ScaleKind
from ezurnals.shared.domain import Invalid


@pytest.mark.parametrize(
    ("scale", "typed", "expected"),
    [
        (TEN_POINT, "7", GradeValue("7", 7)),
        (TEN_POINT, " 10 ", GradeValue("10", 10)),
        (TEN_POINT, "1", GradeValue("1", 1)),
        (PASS_FAIL, "I", GradeValue("i")),
        (PASS_FAIL, "ni", GradeValue("ni")),
        (LEARNING_LEVELS, "a", GradeValue("A")),
        (LEARNING_LEVELS, "P", GradeValue("P")),
        (PERCENT, "85%", GradeValue("85%", 8)),
        (PERCENT, "85 %", GradeValue("85%", 8)),
        (PERCENT, "100", GradeValue("100%", 10)),
        (PERCENT, "0%", GradeValue("0%", 1)),
    ],
)
def test_a_value_on_the_scale_parses_to_its_canonical_text_and_points(
    scale: GradeScale, typed: str, expected: GradeValue
) -> None:
    # given a scale; when a teacher types a value on it
    value = scale.parse(typed)
    # then it is written canonically and counts as the expected points
    assert value == expected


@pytest.mark.parametrize("scale", [TEN_POINT, PASS_FAIL, LEARNING_LEVELS, PERCENT])
@pytest.mark.parametrize("typed", ["nv", "NV", " Nv "])
def test_nv_is_allowed_on_every_scale_and_is_never_a_number(scale: GradeScale, typed: str) -> None:
    # given any scale; when "nv" is given
    value = scale.parse(typed)
    # then it is the no-grade mark, without points, neither pass nor fail
    assert value == GradeValue("nv", None)
    assert value.is_no_grade and not value.is_numeric
    assert scale.is_pass(value) is None


@pytest.mark.parametrize(
    ("scale", "typed", "allowed"),
    [
        (TEN_POINT, "11", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "nv"]),
        (TEN_POINT, "0", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "nv"]),
        (TEN_POINT, "7.5", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "nv"]),
        (PASS_FAIL, "7", ["i", "ni", "nv"]),
        (LEARNING_LEVELS, "B", ["S", "T", "A", "P", "nv"]),
        (PERCENT, "101%", ["0%…100%", "nv"]),
        (PERCENT, "A", ["0%…100%", "nv"]),
    ],
)
def test_a_value_off_the_scale_is_refused_listing_the_allowed_values(
    scale: GradeScale, typed: str, allowed: list[str]
) -> None:
    # given a scale; when a value not on it is given
    with pytest.raises(Invalid) as err:
        scale.parse(typed)
    # then the error names the field and lists what is allowed, in the message too
    assert err.value.field == "value"
    assert err.value.details["allowed"] == allowed
    assert all(a in err.value.message for a in allowed)


@pytest.mark.parametrize(
    ("typed", "passes"), [("3", False), ("4", True), ("10", True), ("1", False)]
)
def test_four_is_the_lowest_pass_on_the_ten_point_scale(typed: str, passes: bool) -> None:
    assert TEN_POINT.is_pass(TEN_POINT.parse(typed)) is passes


def test_a_school_may_set_another_lowest_pass() -> None:
    # given a school whose lowest pass is 5
    strict = GradeScale(ScaleKind.TEN_POINT, lowest_pass=5)
    # then 4 fails there
    assert strict.is_pass(strict.parse("4")) is False
    assert strict.is_pass(strict.parse("5")) is True


def test_pass_fail_values_pass_or_fail_and_levels_do_not_say() -> None:
    assert PASS_FAIL.is_pass(PASS_FAIL.parse("i")) is True
    assert PASS_FAIL.is_pass(PASS_FAIL.parse("ni")) is False
    assert LEARNING_LEVELS.is_pass(LEARNING_LEVELS.parse("S")) is None


@pytest.mark.parametrize(
    ("percent", "points"),
    [(0, 1), (10, 1), (11, 2), (34, 3), (35, 4), (46, 4), (47, 5), (86, 8), (94, 9), (95, 10)],
)
def test_the_default_percent_table_maps_each_band_edge(percent: int, points: int) -> None:
    assert points_for_percent(percent, DEFAULT_PERCENT_TABLE) == points


def test_a_school_table_changes_what_a_percentage_is_worth() -> None:
    # given a school whose table gives 4 points only from 50 %
    table = (PercentBand(min_percent=0, points=1), PercentBand(min_percent=50, points=4))
    scale = GradeScale(ScaleKind.PERCENT, percent_table=table)
    # when 45 % and 50 % are given
    # then they earn 1 and 4 points under that table
    assert scale.parse("45%").points == 1
    assert scale.parse("50%").points == 4


@pytest.mark.parametrize(
    "table",
    [
        (),
        (PercentBand(min_percent=10, points=1),),
        (PercentBand(min_percent=0, points=1), PercentBand(min_percent=0, points=2)),
        (PercentBand(min_percent=0, points=3), PercentBand(min_percent=50, points=2)),
    ],
)
def test_a_percent_table_that_does_not_rise_from_zero_is_refused(
    table: tuple[PercentBand, ...],
) -> None:
    with pytest.raises(Invalid) as err:
        check_percent_table(table)
    assert err.value.field == "percent_table"


@pytest.mark.parametrize(
    ("points", "level"),
    [(1, "S"), (3, "S"), (4, "T"), (5, "T"), (6, "A"), (8, "A"), (9, "P"), (10, "P")],
)
def test_ten_point_bands_map_to_learning_levels(points: int, level: str) -> None:
    assert level_for_points(points, DEFAULT_LEVEL_BANDS) == level


def test_the_level_mapping_is_the_schools_data() -> None:
    # given a school that counts 5 points as A already
    bands = (
        LevelBand(min_points=1, max_points=3, level="S"),
        LevelBand(min_points=4, max_points=4, level="T"),
        LevelBand(min_points=5, max_points=8, level="A"),
        LevelBand(min_points=9, max_points=10, level="P"),
    )
    check_level_bands(bands)
    # then 5 maps to A there, and to T by default
    assert level_for_points(5, bands) == "A"
    assert level_for_points(5) == "T"


@pytest.mark.parametrize(
    "bands",
    [
        DEFAULT_LEVEL_BANDS[:3],
        (DEFAULT_LEVEL_BANDS[1], DEFAULT_LEVEL_BANDS[0], *DEFAULT_LEVEL_BANDS[2:]),
        (
            LevelBand(min_points=1, max_points=4, level="S"),
            LevelBand(min_points=4, max_points=5, level="T"),
            *DEFAULT_LEVEL_BANDS[2:],
        ),
    ],
)
def test_a_level_mapping_with_gaps_overlaps_or_disorder_is_refused(
    bands: tuple[LevelBand, ...],
) -> None:
    with pytest.raises(Invalid) as err:
        check_level_bands(bands)
    assert err.value.field == "level_bands"


def test_period_grades_on_a_percent_scale_are_given_in_points() -> None:
    # given a percent scale; then its period grades are 10-point values
    assert PERCENT.period_scale.kind is ScaleKind.TEN_POINT
    assert PERCENT.period_scale.parse("8") == GradeValue("8", 8)
    assert TEN_POINT.period_scale is TEN_POINT


def test_computed_points_are_written_on_the_scale_or_not_at_all() -> None:
    assert TEN_POINT.from_points(7) == GradeValue("7", 7)
    assert LEARNING_LEVELS.from_points(7) == GradeValue("A")
    assert PASS_FAIL.from_points(7) is None
