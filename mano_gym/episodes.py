"""The episodes of N patients stepped together in torch: the one implementation of
`ManoPatient-v0`'s dynamics, observation and reward, which the single environment (N = 1) and
the natively batched vector environment both wrap.

A week of one patient: the dynamics (the world model, or the reference simulator) turn the last
week and this week's action into the next week of signals; the risk predictor scores it; the
reward compares the new risk score with the last one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, WINDOW_DAYS
from mano_gym.cohort import Cohort, enrolled_patients
from mano_gym.reference import SAFETY_FLAGS as REFERENCE_FLAGS
from mano_gym.reference import Patients, PatientState, ReferenceSimulator
from mano_gym.treatments import N_TREATMENTS, next_exposure
from mano_gym.world_model import WorldModel
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
REWARD_TERMS = ("risk_drop", "intensity_cost", "safety_penalty", "cure_bonus")


@dataclass(frozen=True)
class RewardWeights:
    """The reward's weights: `risk_weight * (last risk - new risk) - intensity_cost[treatment] *
    intensity - safety_penalty * flags raised + cure_bonus * cured`."""

    risk_weight: float = 10.0
    # Cost per unit of intensity, per treatment (judgement: burden and price, control free).
    intensity_cost: tuple[float, ...] = (0.0, 0.1, 0.4, 0.2, 0.3)
    safety_penalty: float = 1.0
    cure_bonus: float = 2.0
    cure_threshold: float = 0.1  # a risk score below it ends the episode as cured

    def __post_init__(self) -> None:
        if len(self.intensity_cost) != N_TREATMENTS:
            raise ValueError(f"intensity_cost needs one value per treatment ({N_TREATMENTS})")
        values = (self.risk_weight, self.safety_penalty, self.cure_bonus, *self.intensity_cost)
        if not all(np.isfinite(v) for v in values):
            raise ValueError("reward weights must be finite")
        if not 0.0 < self.cure_threshold < 1.0:
            raise ValueError(f"cure_threshold must lie in (0, 1), got {self.cure_threshold}")


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
        if n < 1 or max_weeks < 1:
            raise ValueError(f"need n >= 1 and max_weeks >= 1, got {n} and {max_weeks}")
        self.n, self.reward, self.max_weeks = n, reward, max_weeks
        self.device = torch.device(device)
        self.cohort, self.predictor, self.world_model = cohort, predictor, world_model
        self.simulator = ReferenceSimulator() if world_model is None else None
        self.patients: Patients = cohort.patients

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values, np.float32), device=self.device)

        self.all_static = tensor(cohort.static)
        self.all_first = tensor(cohort.first_signals)
        self.all_baseline = tensor(cohort.patients.rhythm)
        self.all_proba = predictor.predict_proba_tensor(self.all_static, self.all_first)
        first_score = risk_score_from_proba(self.all_proba).cpu().numpy()
        # Enrolled: at least moderate on a DASS subscale (the clinic's intake) and not already
        # below the cure threshold by the predictor (else the episode would be over at once).
        enrolled = enrolled_patients(cohort)
        self.enrolled = enrolled[first_score[enrolled] >= reward.cure_threshold]
        if len(self.enrolled) == 0:
            raise ValueError("no patient of the cohort is enrolled (at least moderate risk)")
        self._low, self._span = tensor(SIGNAL_LOW), tensor(SIGNAL_HIGH - SIGNAL_LOW)
        self._cost = tensor(reward.intensity_cost)
        self._limit_signals = [SIGNAL_NAMES.index(signal) for _, signal, _ in SAFETY_LIMITS]
        self._limits = tensor([change for _, _, change in SAFETY_LIMITS])

        self.patient = np.zeros(n, np.int64)
        self._patient = torch.zeros(n, dtype=torch.long, device=self.device)
        self.baseline = torch.zeros(n, WINDOW_DAYS, N_SIGNALS, device=self.device)
        self.last = torch.zeros_like(self.baseline)
        self.first_mean = torch.zeros(n, N_SIGNALS, device=self.device)
        self.exposure = torch.zeros(n, N_TREATMENTS, device=self.device)
        self.week = torch.zeros(n, dtype=torch.long, device=self.device)
        self.proba = torch.zeros(n, 3, device=self.device)
        self.score = torch.zeros(n, device=self.device)
        self.belief = world_model.initial_belief(n) if world_model is not None else None
        self.latent: PatientState | None = None
        if self.simulator is not None:
            self.latent = self.simulator.first_state(self.patients.subset(self.patient))

    # ------------------------------------------------------------------------- episodes
    def start(self, rows: np.ndarray, patients: np.ndarray) -> None:
        """Start the episodes of cohort `patients` in `rows` (index arrays of equal length)."""
        rows, patients = np.asarray(rows), np.asarray(patients)
        if patients.min(initial=0) < 0 or patients.max(initial=0) >= len(self.cohort):
            raise ValueError(f"patient index outside the cohort's 0..{len(self.cohort) - 1}")
        # Copy before writing: observations and infos already returned share memory with these
        # arrays (`.numpy()` of CPU tensors), and must keep describing the episode that ended.
        self.patient = self.patient.copy()
        for name in (
            "_patient",
            "baseline",
            "last",
            "first_mean",
            "exposure",
            "week",
            "proba",
            "score",
        ):
            setattr(self, name, getattr(self, name).clone())
        self.patient[rows] = patients
        r = torch.as_tensor(rows, device=self.device)
        p = torch.as_tensor(patients, device=self.device)
        self._patient[r] = p
        self.baseline[r] = self.all_baseline[p]
        self.last[r] = self.all_first[p]
        self.first_mean[r] = self.all_first[p].mean(dim=1)
        self.exposure[r] = 0.0
        self.week[r] = 0
        if self.belief is not None:
            self.belief = self.belief.clone()
            self.belief[r] = 0.0
        self.proba[r] = self.all_proba[p]
        self.score[r] = risk_score_from_proba(self.all_proba[p])
        if self.latent is not None:
            fresh = self.simulator.first_state(self.patients.subset(patients))
            self.latent.scores[rows] = fresh.scores
            self.latent.exposure[rows] = fresh.exposure
            self.latent.adherence[rows] = fresh.adherence
            self.latent.medication_weeks[rows] = fresh.medication_weeks

    def observation(self) -> dict[str, torch.Tensor]:
        """The observation of every row (see `ManoPatientEnv` for the spaces)."""
        return {
            "static": self.all_static[self._patient],
            "signals": (self.last - self._low) / self._span,
            "risk": self.proba,
            "exposure": self.exposure,
            "week": self.week[:, None].float(),
        }

    def step(
        self,
        treatment: torch.Tensor,
        intensity: torch.Tensor,
        noise: torch.Tensor | None,
        rng: np.random.Generator,
    ) -> dict[str, torch.Tensor]:
        """One week for every row: `treatment` (n,) long and `intensity` (n,) float tensors,
        already checked; `noise` (n, 7, 5) standard normal for the world model; `rng` for the
        reference simulator. Returns the reward, its terms, the episode ends and what `info`
        reports, as tensors."""
        with self._threads():
            out: dict[str, torch.Tensor] = {}
            if self.world_model is not None:
                signals, self.belief = self.world_model.sample(
                    self.all_static[self._patient],
                    self.baseline,
                    self.last,
                    self.exposure,
                    treatment,
                    intensity,
                    self.belief,
                    noise,
                )
            else:
                patients = self.patients.subset(self.patient)
                self.latent, week = self.simulator.step(
                    patients,
                    self.latent,
                    treatment.cpu().numpy(),
                    intensity.cpu().numpy().astype(np.float64),
                    rng,
                )
                signals = torch.as_tensor(week.signals, device=self.device)
                out["dass"] = torch.as_tensor(week.scores, dtype=torch.float32, device=self.device)
                out["true_risk"] = torch.as_tensor(week.risk, device=self.device)
                for k, flag in enumerate(REFERENCE_FLAGS):
                    out[flag] = torch.as_tensor(week.safety[:, k], device=self.device)
            self.exposure = next_exposure(self.exposure, treatment, intensity)
            self.last = signals
            self.week = self.week + 1
            proba = self.predictor.predict_proba_tensor(self.all_static[self._patient], signals)
            score = risk_score_from_proba(proba)

            change = (signals.mean(dim=1) - self.first_mean)[:, self._limit_signals]
            flags = torch.where(self._limits > 0, change >= self._limits, change <= self._limits)
            cost = flags.sum(dim=1).float()
            cured = score < self.reward.cure_threshold
            w = self.reward
            out["risk_drop"] = w.risk_weight * (self.score - score)
            out["intensity_cost"] = self._cost[treatment] * intensity
            out["safety_penalty"] = w.safety_penalty * cost
            out["cure_bonus"] = w.cure_bonus * cured.float()
            out["reward"] = (
                out["risk_drop"] - out["intensity_cost"] - out["safety_penalty"] + out["cure_bonus"]
            )
            out["terminated"] = cured
            out["truncated"] = (self.week >= self.max_weeks) & ~cured
            out["cost"] = cost
            out["safety_flags"] = flags
            out["risk_score"] = score
            out["signals"] = signals
            self.proba, self.score = proba, score
            return out

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """One torch thread for small CPU batches: intra-op threads only add hand-offs to a few
        small matrix products (a single patient steps several times faster on one thread, far
        more so on a busy CPU); larger batches keep the caller's setting."""
        if self.n > SMALL_BATCH or self.device.type != "cpu":
            yield
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
