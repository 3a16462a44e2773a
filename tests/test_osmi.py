import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from generators.data.osmi import (
    load_osmi,
    normalise_gender,
)
from generators.profile_schema import (
    AGE_MAX,
    AGE_MIN,
    ANSWERS,
    GENDERS,
    OTHER_COUNTRY,
    PROFILE_COLUMNS,
)
from tests.conftest import OSMI_CSV


def test_expected_columns_and_types(osmi):
    profiles, _ = osmi
    assert tuple(profiles.columns) == PROFILE_COLUMNS
    assert profiles["age"].dtype == "int64"
    assert not profiles.isna().any().any()
    for dropped in ("Timestamp", "comments", "state"):
        assert dropped not in profiles.columns


def test_ages_inside_18_to_75(osmi):
    profiles, _ = osmi
    assert profiles["age"].between(AGE_MIN, AGE_MAX).all()


def test_gender_has_exactly_three_values(osmi):
    profiles, _ = osmi
    assert set(profiles["gender"]) == set(GENDERS)


def test_answers_are_survey_choices(osmi):
    profiles, _ = osmi
    for column, choices in ANSWERS.items():
        assert set(profiles[column]) <= set(choices), column


def test_countries_reduced_to_top_k_plus_other(osmi):
    profiles, _ = osmi
    countries = profiles["country"].value_counts()
    assert len(countries) == 7 + 1
    assert OTHER_COUNTRY in countries
    assert "United States" in countries and "United Kingdom" in countries


def test_report_accounts_for_every_row(osmi):
    profiles, report = osmi
    raw_rows = len(pd.read_csv(OSMI_CSV))
    assert report.rows_read == raw_rows
    assert report.rows_kept == len(profiles)
    assert report.rows_read - report.rows_kept == sum(report.dropped.values())
    # -1726, -29, -1, 5, 8, 11, 329 and 99999999999
    assert report.dropped["age missing or outside 18-75"] == 8
    assert set(report.columns_dropped) == {"Timestamp", "state", "comments"}


def test_known_spellings_normalise():
    assert normalise_gender(" Male ") == "male"
    assert normalise_gender("cis-female/femme") == "female"
    assert normalise_gender("msle") == "male"
    assert normalise_gender("Genderqueer") == "other"


@given(st.text(max_size=30))
def test_any_answer_maps_to_one_of_three_genders(answer):
    assert normalise_gender(answer) in GENDERS


def test_same_file_same_profiles(osmi):
    again, _ = load_osmi(OSMI_CSV)
    pd.testing.assert_frame_equal(osmi[0], again)
