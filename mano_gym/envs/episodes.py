"""The episodes of N patients stepped together in torch: the one implementation of
`ManoPatient-v0`'s dynamics, observation and reward, which the single environment (N = 1) and
the natively batched vector environment both wrap.

A week of one patient: the dynamics (`WorldModelDynamics` or `ReferenceDynamics`, one
interface) turn the last week and this week's action into the next week of signals and say
whether the patient left care; the risk predictor scores the week; `reward_terms`, a pure
function, compares the new risk score with the last one. What changes week by week is one
`EpisodeState`. An episode ends in sustained remission (the risk score under its threshold
for `cure_weeks` weeks in a row), in a drop-out, or at `max_weeks`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, WINDOW_DAYS
from mano_gym.assets import load_cohort, load_risk_predictor, load_world_model
from mano_gym.cohorts.cohort import Cohort, enrolled_patients
from mano_gym.dynamics.reference import SAFETY_FLAGS as REFERENCE_FLAGS
from mano_gym.dynamics.reference import Patients, PatientState, ReferenceSimulator
from mano_gym.dynamics.treatments import N_TREATMENTS, next_exposure
from mano_gym.dynamics.world_model import WeekInputs, WorldModel
from predictor.labels import dass_risk_labels
from predictor.model import RiskPredictor, risk_score_from_proba

DYNAMICS = ("world_model", "reference")
# Safety flags: treatment-emergent changes of the week's mean signal against the patient's own
# first (pre-treatment) week, as trials count adverse effects against baseline. Judgement:
# these rarely fire untreated (under 1% of weeks) but in about half of the first weeks of
# full-intensity medication (measured on the reference simulator). (name, signal, change)
SAFETY_LIMITS: tuple[tuple[str, str, float], ...] = (
    ("sleep_loss", "sleep_hours", -0.75),  # 45 minutes less sleep a night
    ("heart_rate_rise", "resting_hr", 4.0),  # 4 bpm faster resting heart rate
)
SAFETY_FLAGS: tuple[str, ...] = tuple(limit[0] for limit in SAFETY_LIMITS)
SMALL_BATCH = 256  # up to this many patients, one torch thread steps faster (measured)
REWARD_TERMS = ("risk_drop", "intensity_cost", "safety_penalty", "dropout_penalty", "cure_bonus")
RETURNED = ("reward", "terminated", "truncated")  # what `Episodes.step` gives besides the info
# Judgement: two STAR*D levels of 12 weeks, so that a switch after a level without remission
# still has a level to pay off in.
DEFAULT_MAX_WEEKS = 24
MAX_WEEKS = 52  # a year: the longest horizon the reference simulator is validated over


@dataclass(frozen=True)
class RewardWeights:
    """The reward's weights: `risk_weight * (last risk - new risk) - intensity_cost[treatment] *
    intensity - safety_penalty * flags raised - (dropout_penalty + risk_weight * max(first
    risk - new risk, 0)) * left care + cure_bonus * cured`; cured is a risk score under
    `cure_threshold` for `cure_weeks` weeks in a row. A patient who leaves care takes back
    the improvement credited so far (the baseline carried forward, as intention-to-treat
    analyses count drop-outs), so that an agent never gains by losing a patient."""

    risk_weight: float = 10.0
    # Cost per unit of intensity, per treatment (judgement: burden and price, control free).
    intensity_cost: tuple[float, ...] = (0.0, 0.1, 0.4, 0.2, 0.3)
    safety_penalty: float = 1.0
    cure_bonus: float = 2.0
    cure_threshold: float = 0.1  # a risk score below it for `cure_weeks` weeks: cured
    cure_weeks: int = 2  # judgement: one noisy good week is not a remission
    dropout_penalty: float = 1.0  # judgement: leaving care unwell, half a cure's worth

    def __post_init__(self) -> None:
        if len(self.intensity_cost) != N_TREATMENTS:
            raise ValueError(f"intensity_cost needs one value per treatment ({N_TREATMENTS})")
        values = (self.risk_weight, self.safety_penalty, self.cure_bonus, self.dropout_penalty)
        values += self.intensity_cost
        if not all(np.isfinite(v) and v >= 0 for v in values):
            raise ValueError(
                "reward weights must be finite and >= 0 (risk_weight, safety_penalty, "
                f"cure_bonus, dropout_penalty, intensity_cost), got {values}"
            )
        weeks = self.cure_weeks
        if isinstance(weeks, (bool, np.bool_)) or not isinstance(weeks, (int, np.integer)):
            raise ValueError(f"cure_weeks must be an integer, got {weeks!r}")
        if weeks < 1:
            raise ValueError(f"cure_weeks must be >= 1, got {weeks}")
        if not 0.0 < self.cure_threshold < 1.0:
            raise ValueError(f"cure_threshold must lie in (0, 1), got {self.cure_threshold}")


def reward_terms(
    weights: RewardWeights,
    cost_per_unit: torch.Tensor,
    first_score: torch.Tensor,
    last_score: torch.Tensor,
    score: torch.Tensor,
    weeks_below: torch.Tensor,
    treatment: torch.Tensor,
    intensity: torch.Tensor,
    flags: torch.Tensor,
    left: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """The week's reward, its terms (`REWARD_TERMS`), whether the patient is cured or dropped
    out (a cure comes first) and the safety cost, from the risk scores of the first week,
    before and after, the weeks in a row under the cure threshold (this one included), the
    action, the safety flags
    `(n, len(SAFETY_FLAGS))` and whether the patient left care; `cost_per_unit` is
    `weights.intensity_cost` as a tensor."""
    cost = flags.sum(dim=1).float()
    cured = weeks_below >= weights.cure_weeks
    dropout = left & ~cured
    terms = {
        "risk_drop": weights.risk_weight * (last_score - score),
        "intensity_cost": cost_per_unit[treatment] * intensity,
        "safety_penalty": weights.safety_penalty * cost,
        "dropout_penalty": dropout.float()
        * (weights.dropout_penalty + weights.risk_weight * (first_score - score).clamp(min=0.0)),
        "cure_bonus": weights.cure_bonus * cured.float(),
    }
    reward = terms["risk_drop"] - terms["intensity_cost"] - terms["safety_penalty"]
    reward = reward - terms["dropout_penalty"] + terms["cure_bonus"]
    return terms | {"reward": reward, "cured": cured, "dropout": dropout, "cost": cost}


@dataclass
class EpisodeState:
    """What an episode holds week by week, one row per patient (tensors on one device)."""

    patient: torch.Tensor  # (n,) long, cohort index
    baseline: torch.Tensor  # (n, 7, 5) baseline rhythm, real units
    last: torch.Tensor  # (n, 7, 5) the last week of signals, real units
    first_mean: torch.Tensor  # (n, 5) mean of the first observed week (safety reference)
    exposure: torch.Tensor  # (n, 5) exposure trace
    week: torch.Tensor  # (n,) long, weeks of treatment so far
    proba: torch.Tensor  # (n, 3) predicted risk class probabilities
    score: torch.Tensor  # (n,) risk score
    weeks_below: torch.Tensor  # (n,) long, weeks in a row with the score under the threshold

    @classmethod
    def empty(cls, n: int, device: torch.device) -> EpisodeState:
        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(*shape, dtype=dtype, device=device)

        week = zeros(n, WINDOW_DAYS, N_SIGNALS)
        return cls(
            zeros(n, dtype=torch.long),
            week,
            week.clone(),
            zeros(n, N_SIGNALS),
            zeros(n, N_TREATMENTS),
            zeros(n, dtype=torch.long),
            zeros(n, 3),
            zeros(n),
            zeros(n, dtype=torch.long),
        )

    def clone(self) -> EpisodeState:
        return EpisodeState(*(getattr(self, f.name).clone() for f in fields(self)))


class Dynamics(Protocol):
    """What turns a week of treatment into the next week of signals."""

    def start(self, rows: np.ndarray, patients: np.ndarray) -> dict[str, torch.Tensor]:
        """Start cohort `patients` in `rows`: reset whatever the dynamics carries per row, and
        return what `step` reports besides the signals for their first (untreated) week."""

    def get_state(self) -> dict[str, torch.Tensor]:
        """What the dynamics carries per row, as tensors (`set_state` restores it)."""

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from what `get_state` returned."""

    def step(
        self,
        state: EpisodeState,
        static: torch.Tensor,
        treatment: torch.Tensor,
        intensity: torch.Tensor,
        draws: RandomDraws,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The next week `(n, 7, 5)` of every row (`static`: their encoded profiles), whether
        each left care in it `(n,)` bool, and the dynamics' own info (`mano_gym.envs.infos`),
        by key."""


@dataclass
class RandomDraws:
    """Where a step's random numbers come from: `rng` (NumPy), and the world model's noise from
    `generator` (torch, on the device) or, without one, from `rng` too."""

    rng: np.random.Generator
    generator: torch.Generator | None = None

    def normal(self, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
        if self.generator is None:
            draw = self.rng.standard_normal(shape, np.float32)
            return torch.from_numpy(draw).to(device)
        return torch.randn(shape, generator=self.generator, device=device)

    def uniform(self, n: int, device: torch.device) -> torch.Tensor:
        if self.generator is None:
            return torch.from_numpy(self.rng.random(n, dtype=np.float32)).to(device)
        return torch.rand(n, generator=self.generator, device=device)


class WorldModelDynamics:
    """The distilled world model; carries each row's belief. One patient on the CPU samples
    through the model's NumPy twin (`one_patient_on_cpu`)."""

    def __init__(self, model: WorldModel, n: int) -> None:
        self.model = model
        self.belief = model.initial_belief(n)
        self.sample = (
            model.numpy_twin().sample if one_patient_on_cpu(n, model.device) else model.sample
        )

    def start(self, rows: np.ndarray, patients: np.ndarray) -> dict[str, torch.Tensor]:
        self.belief = self.belief.clone()
        self.belief[torch.as_tensor(rows, device=self.belief.device)] = 0.0
        return {}

    def get_state(self) -> dict[str, torch.Tensor]:
        return {"belief": self.belief.clone()}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        self.belief = _restored(state["belief"], self.belief, "belief")

    def step(self, state, static, treatment, intensity, draws):
        week = WeekInputs(
            static,
            state.baseline,
            state.last,
            state.exposure,
            treatment,
            intensity,
        )
        noise = draws.normal(tuple(state.last.shape), state.last.device)
        signals, hazard, self.belief = self.sample(week, self.belief, noise)
        return signals, draws.uniform(len(hazard), hazard.device) < hazard, {}


class ReferenceDynamics:
    """The reference simulator itself; carries each row's latent state and reports it."""

    def __init__(self, patients: Patients, n: int, device: torch.device) -> None:
        self.simulator, self.patients, self.device = ReferenceSimulator(), patients, device
        self.rows = np.zeros(n, np.int64)
        self.latent = self.simulator.first_state(patients.subset(self.rows))

    def start(self, rows: np.ndarray, patients: np.ndarray) -> dict[str, torch.Tensor]:
        self.rows = self.rows.copy()
        self.rows[rows] = patients
        fresh = self.simulator.first_state(self.patients.subset(patients))
        for name in PatientState.ARRAYS:
            getattr(self.latent, name)[rows] = getattr(fresh, name)
        return self._info(fresh.scores, np.zeros((len(rows), len(REFERENCE_FLAGS)), bool))

    def _info(self, scores: np.ndarray, safety: np.ndarray) -> dict[str, torch.Tensor]:
        """What the simulator reports of a week with latent `scores` and `safety` flags
        (`mano_gym.envs.infos`)."""

        def tensor(values: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
            return torch.as_tensor(values, dtype=dtype, device=self.device)

        info = {
            "dass": tensor(scores, torch.float32),
            "true_risk": tensor(dass_risk_labels(scores)),
        }
        return info | {flag: tensor(safety[:, k]) for k, flag in enumerate(REFERENCE_FLAGS)}

    def _arrays(self) -> dict[str, np.ndarray]:
        """Each row's patient and latent state, by name (the week aside)."""
        return {"rows": self.rows} | {k: getattr(self.latent, k) for k in PatientState.ARRAYS}

    def get_state(self) -> dict[str, torch.Tensor]:
        state = {k: torch.from_numpy(np.array(v)) for k, v in self._arrays().items()}
        return state | {"week": torch.tensor(self.latent.week)}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        values = {
            k: _restored(state[k], torch.from_numpy(v), k).numpy().copy()
            for k, v in self._arrays().items()
        }
        week = int(state["week"])
        rows = values.pop("rows")
        if rows.min() < 0 or rows.max() >= len(self.patients):
            raise ValueError("saved rows hold patient indices outside the cohort")
        self.rows, self.latent = rows, PatientState(**values, week=week)

    def step(self, state, static, treatment, intensity, draws):
        self.latent, week = self.simulator.step(
            self.patients.subset(self.rows),
            self.latent,
            treatment.cpu().numpy(),
            intensity.cpu().numpy().astype(np.float64),
            draws.rng,
        )
        signals = torch.as_tensor(week.signals, device=self.device)
        left = torch.as_tensor(week.dropout, device=self.device)
        return signals, left, self._info(week.scores, week.safety)


class Episodes:
    """N patients' episodes on one device. `start` puts patients into rows, `step` gives every
    row one week of treatment; `observation()` is the current observation as tensors."""

    def __init__(
        self,
        n: int,
        cohort: Cohort,
        predictor: RiskPredictor,
        world_model: WorldModel | None,
        reward: RewardWeights,
        max_weeks: int,
        device: str | torch.device = "cpu",
    ) -> None:
        for name, value in (("n", n), ("max_weeks", max_weeks)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if max_weeks > MAX_WEEKS:
            raise ValueError(f"max_weeks must be at most {MAX_WEEKS} (a year), got {max_weeks}")
        self.n, self.reward, self.max_weeks = n, reward, max_weeks
        self.device = torch.device(device)
        self.cohort, self.predictor = cohort, predictor
        self._predict_proba = (
            predictor.numpy_twin().predict_proba_tensor
            if one_patient_on_cpu(n, self.device)
            else predictor.predict_proba_tensor
        )

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values, np.float32), device=self.device)

        self.all_static = tensor(cohort.static)
        self.all_first = tensor(cohort.first_signals)
        self.all_baseline = tensor(cohort.patients.rhythm)
        self.all_proba = predictor.predict_proba_tensor(self.all_static, self.all_first)
        self.all_first_score = risk_score_from_proba(self.all_proba)
        first_score = self.all_first_score.cpu().numpy()
        # Enrolled: at least moderate on a DASS subscale (the clinic's intake) and not already
        # below the cure threshold by the predictor (else the episode would be over at once).
        enrolled = enrolled_patients(cohort)
        self.enrolled = enrolled[first_score[enrolled] >= reward.cure_threshold]
        if len(self.enrolled) == 0:
            raise ValueError("no patient of the cohort is enrolled (at least moderate risk)")
        self.dynamics: Dynamics = (
            ReferenceDynamics(cohort.patients, n, self.device)
            if world_model is None
            else WorldModelDynamics(world_model, n)
        )
        self._low, self._span = tensor(SIGNAL_LOW), tensor(SIGNAL_HIGH - SIGNAL_LOW)
        self._cost = tensor(reward.intensity_cost)
        self._limit_signals = [SIGNAL_NAMES.index(signal) for _, signal, _ in SAFETY_LIMITS]
        # a flag is a change at or beyond its limit, in the limit's direction: one comparison
        # of sign * change >= sign * limit for rises and falls alike
        limits = np.array([change for _, _, change in SAFETY_LIMITS])
        self._limit_sign, self._signed_limit = tensor(np.sign(limits)), tensor(np.abs(limits))
        self.state = EpisodeState.empty(n, self.device)

    def get_state(self) -> dict[str, dict[str, torch.Tensor]]:
        """Every row's episode and what the dynamics carries, as tensors (`set_state`
        continues exactly from it)."""
        episode = {f.name: getattr(self.state, f.name).clone() for f in fields(self.state)}
        return {"episode": episode, "dynamics": self.dynamics.get_state()}

    def set_state(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        """Continue from what `get_state` returned (of episodes of the same size and cohort);
        a `ValueError` names what does not fit."""
        try:
            episode = {
                f.name: _restored(state["episode"][f.name], getattr(self.state, f.name), f.name)
                for f in fields(self.state)
            }
            patient = episode["patient"]
            if int(patient.min()) < 0 or int(patient.max()) >= len(self.cohort):
                raise ValueError("patient indices outside the cohort")
            self.dynamics.set_state(state["dynamics"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a saved state of these episodes ({error!r})") from None
        self.state = EpisodeState(**episode)

    @property
    def patient(self) -> np.ndarray:
        """(n,) cohort index of each row's patient."""
        return self.state.patient.cpu().numpy()

    def start(self, rows: np.ndarray, patients: np.ndarray) -> dict[str, torch.Tensor]:
        """Start the episodes of cohort `patients` in `rows` (index arrays of equal length).
        Returns what `step` returns, for these rows as of their first week: no reward, no
        episode end, `treatment` -1 (none yet)."""
        rows, patients = np.asarray(rows), np.asarray(patients)
        if patients.min(initial=0) < 0 or patients.max(initial=0) >= len(self.cohort):
            raise ValueError(f"patient index outside the cohort's 0..{len(self.cohort) - 1}")
        # A new state, not writes into the old one: observations and infos already returned
        # share memory with it (`.numpy()` of CPU tensors) and must keep describing the
        # episodes that ended.
        state = self.state.clone()
        r = torch.as_tensor(rows, device=self.device)
        p = torch.as_tensor(patients, device=self.device)
        state.patient[r] = p
        state.baseline[r] = self.all_baseline[p]
        state.last[r] = self.all_first[p]
        state.first_mean[r] = self.all_first[p].mean(dim=1)
        state.exposure[r] = 0.0
        state.week[r] = 0
        state.proba[r] = self.all_proba[p]
        state.score[r] = risk_score_from_proba(self.all_proba[p])
        state.weeks_below[r] = 0
        first = self.dynamics.start(rows, patients)
        self.state = state

        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(len(rows), *shape, dtype=dtype, device=self.device)

        out = {key: zeros() for key in ("reward", *REWARD_TERMS, "cost", "intensity")}
        out |= {"terminated": zeros(dtype=torch.bool), "truncated": zeros(dtype=torch.bool)}
        out["safety_flags"] = zeros(len(SAFETY_FLAGS), dtype=torch.bool)
        out["dropout"] = zeros(dtype=torch.bool)
        out["treatment"] = torch.full((len(rows),), -1, dtype=torch.long, device=self.device)
        out |= {"risk_score": state.score[r], "signals": state.last[r], "patient": p.long()}
        return out | {"week": state.week[r]} | first

    def observation(self) -> dict[str, torch.Tensor]:
        """The observation of every row (see `ManoPatientEnv` for the spaces)."""
        s = self.state
        return {
            "static": self.all_static[s.patient],
            "signals": (s.last - self._low) / self._span,
            "risk": s.proba,
            "exposure": s.exposure,
            "week": s.week[:, None].float(),
        }

    def step(
        self, treatment: torch.Tensor, intensity: torch.Tensor, draws: RandomDraws
    ) -> dict[str, torch.Tensor]:
        """One week for every row: `treatment` (n,) long and `intensity` (n,) float tensors,
        already checked; random numbers from `draws`. Returns the reward, the episode ends
        and what `info` reports (`mano_gym.envs.infos`; the safety flags as one
        `safety_flags` array), as tensors."""
        with self._threads():
            s = self.state
            static = self.all_static[s.patient]
            signals, left, out = self.dynamics.step(s, static, treatment, intensity, draws)
            proba = self._predict_proba(static, signals)
            score = risk_score_from_proba(proba)
            below = torch.where(score < self.reward.cure_threshold, s.weeks_below + 1, 0)
            change = (signals.mean(dim=1) - s.first_mean)[:, self._limit_signals]
            flags = change * self._limit_sign >= self._signed_limit
            first = self.all_first_score[s.patient]
            terms = reward_terms(
                self.reward,
                self._cost,
                first,
                s.score,
                score,
                below,
                treatment,
                intensity,
                flags,
                left,
            )
            ended = terms.pop("cured") | terms["dropout"]
            self.state = EpisodeState(
                s.patient,
                s.baseline,
                signals,
                s.first_mean,
                next_exposure(s.exposure, treatment, intensity),
                s.week + 1,
                proba,
                score,
                below,
            )
            out |= terms
            out["terminated"] = ended
            out["truncated"] = (self.state.week >= self.max_weeks) & ~ended
            out["safety_flags"] = flags
            out["risk_score"] = score
            out["signals"] = signals
            out |= {"treatment": treatment, "intensity": intensity}
            return out | {"patient": s.patient, "week": self.state.week}

    def _threads(self) -> contextlib.AbstractContextManager:
        """One torch thread for small CPU batches: intra-op threads only add hand-offs to a few
        small matrix products (a single patient steps several times faster on one thread, far
        more so on a busy CPU); larger batches keep the caller's setting."""
        if self.n > SMALL_BATCH or self.device.type != "cpu":
            return contextlib.nullcontext()
        return one_torch_thread()


def one_patient_on_cpu(n: int, device: torch.device) -> bool:
    """Whether episodes of `n` patients on `device` run their networks through NumPy twins
    (`predictor.numpy_layers`): for one patient on the CPU a forward pass is almost all
    per-operation overhead, which NumPy's is several times smaller than torch's (a step of the
    single environment about twice as fast, measured by `benchmarks/env_throughput.py`). Larger
    batches, and any GPU, keep torch, and with it the random streams of published runs."""
    return n == 1 and device.type == "cpu"


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread inside the block. Besides speed, it keeps a process fork-safe:
    OpenMP's thread pool does not survive `fork`, and a forked child whose parent had started
    it deadlocks in its first multi-threaded op (`AsyncVectorEnv` forks after building one
    environment in the parent), while one thread never starts the pool."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def restored_rng(saved: dict, name: str) -> np.random.Generator:
    """A NumPy generator in the saved bit-generator state `saved` (`Generator.bit_generator.
    state`); a `ValueError` naming `name` if it is none."""
    rng = np.random.default_rng()
    try:
        rng.bit_generator.state = saved
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"saved {name} is not a generator state ({error})") from None
    return rng


def _restored(saved: torch.Tensor, like: torch.Tensor, name: str) -> torch.Tensor:
    """`saved` as a copy on `like`'s device; a `ValueError` unless it has `like`'s shape and
    dtype."""
    if (
        not isinstance(saved, torch.Tensor)
        or saved.shape != like.shape
        or saved.dtype != like.dtype
    ):
        raise ValueError(
            f"saved {name} must be a {like.dtype} tensor of shape {tuple(like.shape)}, got "
            f"{getattr(saved, 'dtype', type(saved).__name__)} {tuple(getattr(saved, 'shape', ()))}"
        )
    return saved.to(like.device).clone()


def make_episodes(
    n: int,
    cohort: str | Path | Cohort,
    dynamics: str,
    max_weeks: int,
    reward: RewardWeights,
    device: str,
    world_model: str | Path | None,
    assets: str | Path | None = None,
) -> Episodes:
    """The `Episodes` behind an environment of `n` patients, on asset set `assets` (default:
    the shipped one)."""
    if dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {dynamics!r}; choose one of {', '.join(DYNAMICS)}")
    # Built on one thread, so that a process may fork after building an environment.
    with one_torch_thread():
        model = load_world_model(world_model, device, assets) if dynamics == "world_model" else None
        return Episodes(
            n,
            load_cohort(cohort, assets),
            load_risk_predictor(device=device, assets=assets),
            model,
            reward,
            max_weeks,
            device,
        )
