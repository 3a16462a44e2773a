import subprocess
import sys

import numpy as np
import pytest

from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, SIGNALS, signal
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, TREATMENTS, treatment_index


def test_five_signals_in_order_with_units_and_ranges():
    assert SIGNAL_NAMES == ("sleep_hours", "sleep_quality", "resting_hr", "stress", "mood")
    assert [s.unit for s in SIGNALS] == ["h", "1-5", "bpm", "1-5", "1-5"]
    assert np.all(SIGNAL_LOW < SIGNAL_HIGH)
    for name in ("sleep_quality", "stress", "mood"):
        assert (signal(name).low, signal(name).high, signal(name).integer) == (1, 5, True)
    assert "more stressed" in signal("stress").direction


def test_unknown_names_list_the_known_ones():
    with pytest.raises(KeyError, match="sleep_hours"):
        signal("heart_rate")
    with pytest.raises(ValueError, match="wellness_app"):
        treatment_index("therapy")


def test_five_treatments_and_intensity_bounds():
    assert TREATMENTS == ("control", "wellness_app", "cbt", "exercise", "medication")
    assert [treatment_index(t) for t in TREATMENTS] == list(range(5))
    assert (INTENSITY_LOW, INTENSITY_HIGH) == (0.1, 1.0)


def test_vocabularies_import_without_heavy_dependencies():
    # Gymnasium is not heavy and is imported: importing mano_gym registers ManoPatient-v0.
    code = (
        "import sys, generators.signals, mano_gym.dynamics.treatments;"
        "heavy = {'torch', 'pandas', 'ctgan', 'sklearn'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
