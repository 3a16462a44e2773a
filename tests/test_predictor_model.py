"""Risk predictor: learning, seeding, calibration, persistence, input checks and baselines, on
small synthetic weeks labelled by the seed-style rules."""

from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from generators.signals import to_support
from predictor.baselines import fit_baseline, summary_feature_names, summary_features
from predictor.decision import decide
from predictor.labels import rule_labels
from predictor.model import RiskPredictor, risk_score_from_proba
from predictor.training import PredictorConfig, class_weights, train_predictor, validation_split

SMALL = PredictorConfig(epochs=20, batch_size=64)
N_TRAIN = 1500


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small LSTMs and small gradient-boosting fits gain nothing from threads, and on a busy
    2-core machine their threads spin-wait on each other (the gbm fit measured 40x slower);
    restored afterwards for the other test modules."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


def synthetic_weeks(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Static features, weeks in physiological ranges (a personal level plus daily noise) and
    their rule labels, which come out roughly 15% low, 50% medium, 35% high."""
    rng = np.random.default_rng(seed)
    level = np.stack(
        [
            rng.uniform(4, 9, n),  # sleep_hours
            rng.uniform(1.5, 4.5, n),  # sleep_quality
            rng.uniform(50, 90, n),  # resting_hr
            rng.uniform(1.5, 4.5, n),  # stress
            rng.uniform(1.5, 4.5, n),  # mood
        ],
        axis=1,
    )
    signals = to_support(level[:, None, :] + rng.normal(0, [1.0, 0.7, 4.0, 0.7, 0.7], (n, 7, 5)))
    static = rng.normal(size=(n, 4)).astype(np.float32)
    return static, signals, rule_labels(signals)


@pytest.fixture(scope="module")
def data():
    return synthetic_weeks(N_TRAIN + 500, seed=0)


@pytest.fixture(scope="module")
def train(data):
    return tuple(array[:N_TRAIN] for array in data)


@pytest.fixture(scope="module")
def held_out(data):
    return tuple(array[N_TRAIN:] for array in data)


@pytest.fixture(scope="module")
def model(train) -> RiskPredictor:
    return train_predictor(*train, SMALL, progress=False, static_names=("a", "b", "c", "d"))


def test_beats_the_majority_class_on_held_out_weeks(model, held_out):
    static, signals, labels = held_out
    majority = np.bincount(labels).max() / len(labels)
    accuracy = (model.predict(static, signals) == labels).mean()
    assert accuracy > majority + 0.15


def test_probabilities_are_float32_rows_summing_to_one(model, held_out):
    proba = model.predict_proba(*held_out[:2])
    assert proba.shape == (len(held_out[0]), 3)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert model.predict_proba(np.zeros((0, 4)), np.zeros((0, 7, 5))).shape == (0, 3)


def test_calibration_lowers_validation_nll(model):
    history = model.history
    assert history["validation_nll_calibrated"] <= history["validation_nll_uncalibrated"]
    assert model.temperature > 0
    assert 1 <= history["best_epoch"] <= history["epochs_run"] <= SMALL.epochs
    assert len(history["validation_loss"]) == history["epochs_run"]


def test_same_seed_same_predictions_and_global_rng_kept(model, train, held_out):
    state = torch.get_rng_state()
    again = train_predictor(*train, SMALL, progress=False)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(
        model.predict_proba(*held_out[:2]), again.predict_proba(*held_out[:2])
    )


def test_decision_rule_is_fitted_for_high_recall_on_validation(model, held_out):
    decided = model.history["validation_decided"]
    assert decided["recall_high"] >= SMALL.high_recall
    proba = model.predict_proba(*held_out[:2])
    np.testing.assert_array_equal(model.predict(*held_out[:2]), decide(proba, model.decision_bias))


def test_no_calibration_is_identity_and_logs_to_tensorboard(train, tmp_path: Path):
    config = PredictorConfig(
        epochs=2, calibration="none", class_weighting="sqrt", decision="argmax"
    )
    patients = np.arange(len(train[0])) // 3  # three weeks each, kept together
    model = train_predictor(*train, config, logdir=tmp_path, progress=False, groups=patients)
    assert model.history["n_validation"] % 3 == 0
    assert model.temperature == 1.0
    assert model.class_bias.tolist() == [0.0, 0.0, 0.0]
    assert model.decision_bias.tolist() == [0.0, 0.0, 0.0]
    proba = model.predict_proba(*train[:2])
    np.testing.assert_array_equal(model.predict(*train[:2]), proba.argmax(axis=1))
    assert model.history["epochs_run"] == 2
    assert list(tmp_path.glob("events.out.tfevents.*"))


def test_grouped_validation_split_keeps_each_patient_on_one_side():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 13)
    labels = rng.integers(0, 3, len(groups))
    train_rows, val_rows = validation_split(labels, 0.2, seed=0, groups=groups)
    assert len(train_rows) + len(val_rows) == len(labels)
    assert not set(groups[train_rows]) & set(groups[val_rows])
    assert len(val_rows) / len(labels) == pytest.approx(0.2, abs=0.03)
    for c in range(3):  # stratified: each class keeps its share
        assert (labels[val_rows] == c).mean() == pytest.approx((labels == c).mean(), abs=0.03)
    again = validation_split(labels, 0.2, seed=0, groups=groups)
    np.testing.assert_array_equal(val_rows, again[1])
    with pytest.raises(ValueError, match="one entry per week"):
        validation_split(labels, 0.2, seed=0, groups=groups[:-1])
    with pytest.raises(ValueError, match="at least 5 groups"):
        validation_split(labels[:26], 0.2, seed=0, groups=groups[:26])


def test_class_weights_follow_inverse_frequency():
    labels = np.array([0] + [1] * 3 + [2] * 6)
    np.testing.assert_allclose(class_weights(labels, "balanced"), [10 / 3, 10 / 9, 10 / 18])
    np.testing.assert_allclose(class_weights(labels, "sqrt"), np.sqrt([10 / 3, 10 / 9, 10 / 18]))
    np.testing.assert_allclose(class_weights(labels, "none"), [1.0, 1.0, 1.0])


def test_tensor_path_matches_numpy_path(model, held_out):
    static, signals, _ = held_out
    tensor = model.predict_proba_tensor(torch.from_numpy(static), torch.from_numpy(signals))
    assert isinstance(tensor, torch.Tensor) and not tensor.requires_grad
    np.testing.assert_allclose(tensor.numpy(), model.predict_proba(static, signals), atol=1e-6)


def test_risk_score_is_half_medium_plus_high(model, held_out):
    proba = model.predict_proba(*held_out[:2])
    np.testing.assert_allclose(
        model.risk_score(*held_out[:2]), 0.5 * proba[:, 1] + proba[:, 2], rtol=1e-6
    )
    hand = np.array([[0.2, 0.4, 0.4], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(risk_score_from_proba(hand), [0.6, 0.0, 1.0])
    np.testing.assert_allclose(risk_score_from_proba(torch.from_numpy(hand)).numpy(), [0.6, 0, 1])
    with pytest.raises(ValueError, match="3 classes"):
        risk_score_from_proba(np.ones((2, 2)))


def test_save_load_round_trip(model, held_out, tmp_path: Path):
    path = tmp_path / "predictor.pt"
    model.save(path)
    loaded = RiskPredictor.load(path)
    np.testing.assert_array_equal(
        loaded.predict_proba(*held_out[:2]), model.predict_proba(*held_out[:2])
    )
    np.testing.assert_array_equal(loaded.decision_bias, model.decision_bias)
    np.testing.assert_array_equal(loaded.predict(*held_out[:2]), model.predict(*held_out[:2]))
    assert loaded.static_names == ("a", "b", "c", "d")
    assert loaded.config == model.config
    assert loaded.history == model.history
    assert [p.name for p in tmp_path.iterdir()] == ["predictor.pt"]  # no temp file left


def test_corrupt_checkpoints_raise_value_error(model, tmp_path: Path):
    path = tmp_path / "predictor.pt"
    model.save(path)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    for bad in (truncated, garbage):
        with pytest.raises(ValueError, match=f"{bad.name}.*not a readable risk predictor"):
            RiskPredictor.load(bad)
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]
    torch.save(payload, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match="partial.pt.*lacks state_dict"):
        RiskPredictor.load(tmp_path / "partial.pt")
    payload = torch.load(path, weights_only=True)
    payload["format"] = "mano-predictor-1"  # written before the decision rule existed
    torch.save(payload, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="old.pt.*not a 'mano-predictor-2'.*'mano-predictor-1'"):
        RiskPredictor.load(tmp_path / "old.pt")
    payload = torch.load(path, weights_only=True)
    payload["calibration"]["decision_bias"] = [0.0, float("nan"), 1.0]
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match="nan.pt.*decision_bias needs 3 finite values"):
        RiskPredictor.load(tmp_path / "nan.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["lstm_hidden"] = 7
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="mismatch.pt.*malformed"):
        RiskPredictor.load(tmp_path / "mismatch.pt")
    with pytest.raises(FileNotFoundError):
        RiskPredictor.load(tmp_path / "missing.pt")


def test_malformed_inputs_raise(model, held_out):
    static, signals, _ = held_out
    with pytest.raises(ValueError, match="5 signals on the last axis, got 4"):
        model.predict_proba(static, signals[..., :4])
    with pytest.raises(ValueError, match="7 days"):
        model.predict_proba(static, signals[:, :6])
    with pytest.raises(ValueError, match="static has 3 features per row, the model expects 4"):
        model.predict_proba(static[:, :3], signals)
    with pytest.raises(ValueError, match="static has 10 rows but signals has 500"):
        model.predict_proba(static[:10], signals)
    nan_static = static.copy()
    nan_static[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"static contains NaN.*\[1\]"):
        model.predict_proba(nan_static, signals)
    inf_signals = signals.copy()
    inf_signals[0, 0, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite.*resting_hr"):
        model.predict_proba(static, inf_signals)
    with pytest.raises(ValueError, match=r"signals must have shape \(500, 7, 5\)"):
        model.predict_proba_tensor(torch.from_numpy(static), torch.from_numpy(signals[:, :6]))


def test_training_needs_every_class(train):
    static, signals, labels = train
    keep = labels != 0
    with pytest.raises(ValueError, match="every class.*0 low"):
        train_predictor(static[keep], signals[keep], labels[keep], SMALL, progress=False)


@pytest.mark.parametrize(
    "option, message",
    [
        ({"class_weighting": "inverse"}, "balanced, sqrt, none"),
        ({"calibration": "platt"}, "temperature_bias, temperature, none"),
        ({"validation_fraction": 1.0}, r"in \(0, 1\)"),
        ({"decision": "max"}, "high_recall, argmax"),
        ({"high_recall": 1.5}, r"high_recall must be in \[0, 1\]"),
        ({"epochs": 0}, "epochs must be >= 1"),
    ],
)
def test_bad_config_raises(option, message):
    with pytest.raises(ValueError, match=message):
        PredictorConfig(**option)


def test_summary_features_by_hand():
    signals = np.tile(np.array([7.0, 3.0, 60.0, 2.0, 4.0], dtype=np.float32), (1, 7, 1))
    signals[0, :, 4] = [1, 2, 3, 4, 5, 5, 5]  # mood rising
    static = np.array([[0.5, -1.0]], dtype=np.float32)
    features = summary_features(static, signals)
    names = summary_feature_names(("age", "gender"))
    assert features.shape == (1, len(names)) == (1, 32)
    row = dict(zip(names, features[0], strict=True))
    assert row["mood_mean"] == pytest.approx(25 / 7)
    assert row["mood_min"] == 1.0 and row["mood_max"] == 5.0 and row["mood_last"] == 5.0
    assert row["mood_slope"] == pytest.approx(np.polyfit(np.arange(7), signals[0, :, 4], 1)[0])
    assert row["sleep_hours_std"] == 0.0 and row["sleep_hours_slope"] == 0.0
    assert row["age"] == 0.5 and row["gender"] == -1.0


@pytest.mark.parametrize("kind", ["logreg", "gbm"])
def test_baselines_give_probabilities(kind, train, held_out):
    baseline = fit_baseline(kind, *train, seed=0)
    proba = baseline.predict_proba(*held_out[:2])
    assert proba.shape == (len(held_out[0]), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    majority = np.bincount(held_out[2]).max() / len(held_out[2])
    assert (baseline.predict(*held_out[:2]) == held_out[2]).mean() > majority
    with pytest.raises(ValueError, match="expects 4"):
        baseline.predict_proba(held_out[0][:, :2], held_out[1])


def test_unknown_baseline_raises(train):
    with pytest.raises(ValueError, match="logreg, gbm"):
        fit_baseline("svm", *train)
