from generators.baselines import fit_ar1, independent_columns
from generators.evaluation.plots import plot_profiles, plot_rhythms

PNG = b"\x89PNG"


def test_rhythm_and_profile_figures_are_written(windows, osmi, tmp_path):
    real = windows.signals[:60]
    plot_rhythms(real, fit_ar1(real).sample(60, seed=0), tmp_path / "rhythms.png")
    profiles = osmi[0].iloc[:200]
    plot_profiles(profiles, independent_columns(profiles, 200, seed=0), tmp_path / "profiles.png")
    for name in ("rhythms.png", "profiles.png"):
        assert (tmp_path / name).read_bytes()[:4] == PNG
