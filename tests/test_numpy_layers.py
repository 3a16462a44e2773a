"""NumPy twins of the torch layers and networks, which one patient on the CPU steps through:
each computes what its torch original does, within float32 rounding."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from generators.signals import N_SIGNALS, WINDOW_DAYS
from mano_gym.assets import load_cohort, load_risk_predictor, load_world_model
from mano_gym.dynamics.treatments import N_TREATMENTS
from mano_gym.dynamics.world_model import NumpyWorldModel, WeekInputs
from mano_gym.envs.episodes import one_patient_on_cpu
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.vector import ManoPatientVectorEnv
from predictor.model import NumpyRiskPredictor
from predictor.numpy_layers import GRU, LSTM, Dense, GRUCell, attention, sigmoid, softmax

ATOL = 2e-6  # float32 rounding of these small layers, with room


def close(twin: np.ndarray, original: torch.Tensor, atol: float = ATOL) -> None:
    np.testing.assert_allclose(twin, original.detach().numpy(), rtol=1e-5, atol=atol)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("n, steps", [(1, 7), (5, 7), (3, 2)])
def test_lstm_twin_gives_the_last_layers_final_hidden_state(layers, n, steps):
    torch.manual_seed(layers * 10 + n)
    lstm = nn.LSTM(5, 16, num_layers=layers, batch_first=True)
    x = torch.randn(n, steps, 5) * 2
    _, (hidden, _) = lstm(x)
    close(LSTM(lstm)(x.numpy()), hidden[-1])


@pytest.mark.parametrize("n", [1, 4])
def test_gru_twin_gives_every_state_and_the_last(n):
    torch.manual_seed(n)
    gru = nn.GRU(10, 12, batch_first=True)
    x = torch.randn(n, 7, 10) * 2
    states, final = gru(x)
    twin_states, twin_final = GRU(gru)(x.numpy())
    close(twin_states, states)
    close(twin_final, final[0])


def test_gru_cell_twin_steps_from_a_given_state():
    torch.manual_seed(0)
    cell = nn.GRUCell(9, 12)
    x, h = torch.randn(3, 9) * 2, torch.randn(3, 12)
    close(GRUCell(cell)(x.numpy(), h.numpy()), cell(x, h))


def test_dense_twin_runs_linear_relu_tanh_and_skips_dropout():
    torch.manual_seed(0)
    layers = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 4), nn.Tanh())
    layers.eval()
    x = torch.randn(5, 3, 6)
    close(Dense(layers)(x.numpy()), layers(x))
    single = nn.Linear(6, 2)
    close(Dense(single)(x.numpy()), single(x))


def test_linear_layers_side_by_side_give_their_outputs_concatenated():
    torch.manual_seed(0)
    first, second = nn.Linear(6, 3), nn.Linear(6, 2)
    x = torch.randn(4, 7, 6)
    close(Dense.side_by_side(first, second)(x.numpy()), torch.cat([first(x), second(x)], dim=-1))


def test_attention_softmax_and_sigmoid_twins():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 7, 8) * 3 for _ in range(3))
    close(attention(q.numpy(), k.numpy(), v.numpy()), F.scaled_dot_product_attention(q, k, v))
    x = torch.randn(4, 3) * 30
    close(softmax(x.numpy()), torch.softmax(x, dim=-1))
    close(sigmoid(x.numpy()), torch.sigmoid(x))


def test_layers_without_a_twin_are_named():
    with pytest.raises(TypeError, match="no NumPy twin for layer GELU"):
        Dense(nn.Sequential(nn.Linear(2, 2), nn.GELU()))
    with pytest.raises(TypeError, match="batch_first"):
        LSTM(nn.LSTM(2, 3, bidirectional=True, batch_first=True))
    with pytest.raises(TypeError, match="one layer"):
        GRU(nn.GRU(2, 3, num_layers=2, batch_first=True))


@pytest.fixture(scope="module")
def weeks():
    """The first weeks of 64 held-out patients: static profiles and signals as tensors."""
    cohort = load_cohort("eval")
    return torch.from_numpy(cohort.static[:64]), torch.from_numpy(cohort.first_signals[:64])


@pytest.mark.parametrize("n", [1, 64])
def test_shipped_predictor_twin_gives_the_predictors_probabilities(weeks, n):
    predictor = load_risk_predictor()
    static, signals = (w[:n] for w in weeks)
    twin = predictor.numpy_twin()
    assert isinstance(twin, NumpyRiskPredictor)
    close(
        twin.predict_proba_tensor(static, signals), predictor.predict_proba_tensor(static, signals)
    )


def test_shipped_world_model_twin_predicts_and_samples_as_the_model(weeks):
    model = load_world_model()
    static, last = weeks
    n = len(static)
    generator = torch.Generator().manual_seed(0)
    week = WeekInputs(
        static,
        torch.from_numpy(load_cohort("eval").patients.rhythm[:n].astype(np.float32)),
        last,
        torch.rand(n, N_TREATMENTS, generator=generator),
        torch.randint(N_TREATMENTS, (n,), generator=generator),
        torch.rand(n, generator=generator) * 0.9 + 0.1,
    )
    belief = torch.randn(n, model.network.config["hidden"], generator=generator) * 0.3
    twin = model.numpy_twin()
    assert isinstance(twin, NumpyWorldModel)
    with torch.no_grad():
        expected = model.network(week, belief)
    arrays = {name: getattr(week, name).numpy() for name in week.__dataclass_fields__}
    for got, want in zip(twin.forward(arrays, belief.numpy()), expected, strict=True):
        close(got, want, atol=1e-5)
    noise = torch.randn(n, WINDOW_DAYS, N_SIGNALS, generator=generator)
    signals, hazard, new_belief = twin.sample(week, belief, noise)
    want_signals, want_hazard, want_belief = model.sample(week, belief, noise)
    close(hazard.numpy(), want_hazard, atol=1e-6)
    close(new_belief.numpy(), want_belief, atol=1e-5)
    # whole-number signals round alike except within float32 rounding of a half
    differ = (signals - want_signals).abs() > 1e-4
    assert differ.float().mean() < 0.002
    close(signals[~differ].numpy(), want_signals[~differ], atol=1e-4)


def test_one_patient_on_the_cpu_steps_through_the_twins_and_batches_through_torch():
    assert one_patient_on_cpu(1, torch.device("cpu"))
    assert not one_patient_on_cpu(2, torch.device("cpu"))
    assert not one_patient_on_cpu(1, torch.device("cuda"))
    single = ManoPatientEnv().episodes
    assert isinstance(single.dynamics.sample.__self__, NumpyWorldModel)
    assert isinstance(single._predict_proba.__self__, NumpyRiskPredictor)
    batch = ManoPatientVectorEnv(2).episodes
    assert not isinstance(batch.dynamics.sample.__self__, NumpyWorldModel)
    assert not isinstance(batch._predict_proba.__self__, NumpyRiskPredictor)
