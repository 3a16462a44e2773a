"""Malformed files raise errors that name the file and the problem, and are never modified."""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from generators.data import DataSchemaError, load_osmi, load_pmdata
from tests.conftest import OSMI_CSV


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raises_and_keeps_bytes(load, target: Path, file: Path, *patterns: str) -> None:
    before = _digest(file)
    with pytest.raises(DataSchemaError) as error:
        load(target)
    for pattern in patterns:
        assert pattern in str(error.value)
    assert _digest(file) == before


def test_wellness_missing_a_column(participant_copy):
    folder = participant_copy()
    file = folder / "wellness.csv"
    pd.read_csv(file).drop(columns="mood").to_csv(file, index=False)
    _raises_and_keeps_bytes(load_pmdata, folder.parent, file, "wellness.csv", "'mood'", "missing")


def test_non_numeric_stress(participant_copy):
    folder = participant_copy()
    file = folder / "wellness.csv"
    pd.read_csv(file).astype({"stress": str}).assign(
        stress=lambda d: d["stress"].where(d.index != 3, "calm")
    ).to_csv(file, index=False)
    _raises_and_keeps_bytes(load_pmdata, folder.parent, file, "wellness.csv", "'stress'", "'calm'")


def test_fractional_score_on_a_1_to_5_item(participant_copy):
    folder = participant_copy()
    file = folder / "wellness.csv"
    pd.read_csv(file).astype({"mood": float}).assign(
        mood=lambda d: d["mood"].where(d.index != 0, 2.5)
    ).to_csv(file, index=False)
    _raises_and_keeps_bytes(load_pmdata, folder.parent, file, "'mood'", "whole-number")


def test_heart_rate_json_that_is_not_a_list(participant_copy):
    folder = participant_copy()
    file = folder / "resting_heart_rate.json"
    file.write_text(json.dumps({"dateTime": "2019-11-01 00:00:00", "value": {"value": 60}}))
    _raises_and_keeps_bytes(
        load_pmdata, folder.parent, file, "resting_heart_rate.json", "JSON list"
    )


def test_heart_rate_json_entry_without_value(participant_copy):
    folder = participant_copy()
    file = folder / "resting_heart_rate.json"
    file.write_text(json.dumps([{"dateTime": "2019-11-01 00:00:00"}]))
    _raises_and_keeps_bytes(load_pmdata, folder.parent, file, "entry 0", "'value'")


def test_unparseable_timestamp(participant_copy):
    folder = participant_copy()
    file = folder / "sleep_score.csv"
    table = pd.read_csv(file)
    table.loc[2, "timestamp"] = "yesterday"
    table.to_csv(file, index=False)
    _raises_and_keeps_bytes(
        load_pmdata, folder.parent, file, "sleep_score.csv", "'timestamp'", "'yesterday'"
    )


def test_participant_without_wellness(participant_copy):
    folder = participant_copy()
    (folder / "wellness.csv").unlink()
    with pytest.raises(DataSchemaError, match="p01: missing file wellness.csv"):
        load_pmdata(folder.parent)


def test_folder_without_participants(tmp_path):
    (tmp_path / "notes").mkdir()
    with pytest.raises(DataSchemaError, match="no participant folders"):
        load_pmdata(tmp_path)


def test_missing_folder_and_file():
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_pmdata("nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        load_osmi("nowhere.csv")


def test_survey_missing_a_column(tmp_path):
    file = tmp_path / "survey.csv"
    pd.read_csv(OSMI_CSV).drop(columns="family_history").to_csv(file, index=False)
    _raises_and_keeps_bytes(load_osmi, file, file, "survey.csv", "'family_history'")


def test_survey_non_numeric_age(tmp_path):
    file = tmp_path / "survey.csv"
    pd.read_csv(OSMI_CSV).astype({"Age": str}).assign(
        Age=lambda d: d["Age"].where(d.index != 5, "thirty")
    ).to_csv(file, index=False)
    _raises_and_keeps_bytes(load_osmi, file, file, "'Age'", "'thirty'")


def test_survey_unknown_answer(tmp_path):
    file = tmp_path / "survey.csv"
    pd.read_csv(OSMI_CSV).assign(
        treatment=lambda d: d["treatment"].where(d.index != 7, "Sometimes")
    ).to_csv(file, index=False)
    _raises_and_keeps_bytes(load_osmi, file, file, "'treatment'", "'Sometimes'", "'Yes', 'No'")


def test_real_files_are_not_written(osmi, pmdata):
    # The loaders open their inputs read-only; the shared data is read-only on disk too, so
    # this pins that loading both datasets leaves every file's bytes as they were.
    from tests.conftest import DATA

    files = sorted(p for p in DATA.rglob("*") if p.is_file())
    before = {p: _digest(p) for p in files}
    load_osmi(DATA / "osmi-2014" / "survey.csv")
    load_pmdata(DATA / "pmdata")
    assert {p: _digest(p) for p in files} == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00bad,header\n", "not UTF-8 text (byte 0xff at offset 0)"),
        (b'effective_time_frame,mood\n"2020-01-01,3\n', "malformed CSV"),
    ],
)
def test_unreadable_csv_files_are_named(participant_copy, tmp_path, content, problem):
    folder = participant_copy()
    wellness = folder / "wellness.csv"
    wellness.write_bytes(content)
    _raises_and_keeps_bytes(load_pmdata, folder.parent, wellness, str(wellness), problem)
    survey = tmp_path / "survey.csv"
    survey.write_bytes(content)
    _raises_and_keeps_bytes(load_osmi, survey, survey, str(survey), problem)


def test_a_resting_heart_rate_file_that_is_not_utf8_is_named(participant_copy):
    folder = participant_copy()
    file = folder / "resting_heart_rate.json"
    file.write_bytes(b"\xff[")
    _raises_and_keeps_bytes(load_pmdata, folder.parent, file, str(file), "not UTF-8 text")
