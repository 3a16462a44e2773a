import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.data import load_pmdata, make_windows
from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES
from tests.conftest import PMDATA


def test_thirteen_participants_with_daily_frames(pmdata):
    daily, _ = pmdata
    assert list(daily) == [f"p{i:02d}" for i in range(1, 14)]
    for frame in daily.values():
        assert list(frame.columns) == list(SIGNAL_NAMES)
        assert frame.index.is_unique and frame.index.is_monotonic_increasing
        assert (np.diff(frame.index.values) == np.timedelta64(1, "D")).all()  # one row per day


def test_values_inside_physiological_ranges(pmdata):
    daily, _ = pmdata
    values = pd.concat(daily.values()).to_numpy()
    present = ~np.isnan(values)
    low = np.broadcast_to(SIGNAL_LOW, values.shape)[present]
    high = np.broadcast_to(SIGNAL_HIGH, values.shape)[present]
    assert (values[present] >= low).all() and (values[present] <= high).all()


def test_gaps_stay_missing(pmdata):
    daily, _ = pmdata
    assert daily["p12"]["resting_hr"].notna().sum() == 1  # one sleep score, nothing filled in
    assert daily["p01"].isna().any(axis=1).sum() == len(daily["p01"]) - 138


def test_windows_are_complete_weeks_in_range(windows):
    assert windows.signals.shape == (len(windows), 7, 5)
    assert len(windows) > 500
    assert not np.isnan(windows.signals).any()
    assert (windows.signals >= SIGNAL_LOW).all() and (windows.signals <= SIGNAL_HIGH).all()
    assert len(windows.participant) == len(windows.start) == len(windows)


def test_windows_match_the_daily_frames(pmdata, windows):
    daily, _ = pmdata
    for i in (0, len(windows) // 2, len(windows) - 1):
        frame = daily[windows.participant[i]]
        start = pd.Timestamp(windows.start[i])
        week = frame.loc[start : start + pd.Timedelta(days=6)].to_numpy(np.float32)
        np.testing.assert_array_equal(week, windows.signals[i])


def test_stress_is_inverted_and_mood_kept(pmdata):
    daily, _ = pmdata
    raw = pd.read_csv(PMDATA / "p01" / "wellness.csv")
    day = pd.Timestamp(raw["effective_time_frame"].iloc[0][:10])
    assert daily["p01"].loc[day, "stress"] == 6 - raw["stress"].iloc[0]
    assert daily["p01"].loc[day, "mood"] == raw["mood"].iloc[0]
    assert daily["p01"].loc[day, "sleep_hours"] == raw["sleep_duration_h"].iloc[0]


def test_participant_without_resting_hr_json_still_loads(pmdata):
    daily, report = pmdata
    assert not (PMDATA / "p13" / "resting_heart_rate.json").exists()
    assert daily["p13"]["resting_hr"].notna().sum() > 20  # from sleep_score.csv
    assert any(note.startswith("p13:") for note in report.notes)


def test_fitbit_zero_heart_rate_is_missing(pmdata):
    daily, report = pmdata
    assert report.changed["resting_heart_rate.json value 0 -> missing"] > 0
    assert daily["p03"]["resting_hr"].min() > 30


def test_report_accounts_for_every_row(pmdata):
    _, report = pmdata
    raw_rows = sum(len(pd.read_csv(p / "wellness.csv")) for p in sorted(PMDATA.iterdir()))
    assert report.rows_read == raw_rows
    assert report.rows_read - report.rows_kept == sum(report.dropped.values())
    assert report.dropped["day reported twice (later report kept)"] == 15


def test_duplicate_day_keeps_the_later_report(participant_copy):
    folder = participant_copy("p01")
    wellness = pd.read_csv(folder / "wellness.csv")
    later = wellness.iloc[[0]].assign(
        effective_time_frame=wellness["effective_time_frame"].iloc[0][:10] + "T20:00:00.000Z",
        mood=5,
    )
    pd.concat([later, wellness]).to_csv(folder / "wellness.csv", index=False)  # later row first
    daily, report = load_pmdata(folder.parent)
    day = pd.Timestamp(wellness["effective_time_frame"].iloc[0][:10])
    assert daily["p01"].loc[day, "mood"] == 5
    assert report.dropped["day reported twice (later report kept)"] == 1


def test_split_by_participant_never_shares_days(windows):
    held_out = ["p01", "p06"]
    train = windows.select([p for p in np.unique(windows.participant) if p not in held_out])
    test = windows.select(held_out)
    assert len(train) + len(test) == len(windows)
    assert not set(train.participant) & set(test.participant)


@settings(max_examples=60, deadline=None)
@given(
    complete=st.lists(st.booleans(), min_size=0, max_size=40),
    days=st.integers(1, 8),
    stride=st.integers(1, 3),
)
def test_windows_are_every_complete_run(complete, days, stride):
    index = pd.date_range("2020-01-01", periods=len(complete), freq="D")
    values = np.arange(len(complete) * 5, dtype=np.float64).reshape(-1, 5)
    values[~np.array(complete, dtype=bool)] = np.nan
    frame = pd.DataFrame(values, index=index, columns=list(SIGNAL_NAMES))
    found = make_windows({"p": frame}, days=days, stride=stride)
    expected = []
    for end in range(days - 1, len(complete)):
        run_start = end
        while run_start > 0 and complete[run_start - 1]:
            run_start -= 1
        if all(complete[end - days + 1 : end + 1]) and (end - days + 1 - run_start) % stride == 0:
            expected.append(index[end - days + 1])
    assert list(pd.DatetimeIndex(found.start)) == expected
    assert not np.isnan(found.signals).any()


def test_bad_window_arguments_raise():
    with pytest.raises(ValueError, match="stride"):
        make_windows({}, days=7, stride=0)
