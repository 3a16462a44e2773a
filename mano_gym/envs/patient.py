"""`ManoPatientEnv`, registered as `ManoPatient-v0`: one patient's weeks of treatment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.envs.episodes import (
    DEFAULT_MAX_WEEKS,
    RETURNED,
    RandomDraws,
    RewardWeights,
    make_episodes,
    restored_rng,
)
from mano_gym.envs.infos import info_arrays, row_info
from mano_gym.envs.render import render_ansi, render_rgb
from mano_gym.envs.spaces import make_action_space, make_observation_space, read_actions

_DEFAULT = RewardWeights()


class ManoPatientEnv(gym.Env):
    """
    ## Description

    One patient with depression, anxiety or stress symptoms, treated week by week. Each week
    the agent prescribes a treatment and its intensity; the patient's next seven days of
    wearable and diary signals follow from the dynamics (by default a world model distilled
    from Mano's literature-parameterised reference simulator), and a hybrid LSTM risk predictor
    scores them. The goal is to lower the patient's risk quickly, with as little treatment
    burden and as few unsafe weeks as possible. The treatment-response physics is a model, not
    learned from trial data: Mano is for algorithm research, not for clinical decisions.

    ## Action Space

    `Dict(treatment=Discrete(5), intensity=Box(0.1, 1.0, (1,), float32))`, or the same pair as
    a `Tuple` with `action_space="tuple"`. Intensity is the fraction of a full-dose course.

    | treatment | name           | intensity cost per unit (default) |
    |-----------|----------------|-----------------------------------|
    | 0         | `control`      | 0.0                               |
    | 1         | `wellness_app` | 0.1                               |
    | 2         | `cbt`          | 0.4                               |
    | 3         | `exercise`     | 0.2                               |
    | 4         | `medication`   | 0.3                               |

    A malformed action (wrong keys or shape, NaN, a treatment out of range, an intensity out of
    bounds) raises a `ValueError` naming the problem; nothing is clipped silently.

    ## Observation Space

    A `Dict`, all `float32`:

    | key        | shape  | range  | what                                                         |
    |------------|--------|--------|--------------------------------------------------------------|
    | `static`   | (16,)  | 0 - 1  | encoded profile (`mano_gym.cohorts.cohort.STATIC_FEATURES`)  |
    | `signals`  | (7, 5) | 0 - 1  | last week's daily signals, each scaled from its range        |
    |            |        |        | (`generators.signals`: sleep_hours 1-16 h, sleep_quality     |
    |            |        |        | 1-5, resting_hr 30-120 bpm, stress 1-5, mood 1-5)            |
    | `risk`     | (3,)   | 0 - 1  | predicted P(low), P(medium), P(high)                         |
    | `exposure` | (5,)   | 0 - 1  | exposure trace per treatment (`mano_gym.dynamics.treatments`) |
    | `week`     | (1,)   | 0 - 24 | weeks of treatment so far (0 - `max_weeks`)                  |

    ## Rewards

    `reward = risk_drop - intensity_cost - safety_penalty - dropout_penalty + cure_bonus`, with
    the risk score `r = P(medium) * 0.5 + P(high)`:

    | term              | value                                                | default weight |
    |-------------------|------------------------------------------------------|----------------|
    | `risk_drop`       | `risk_weight * (r_last - r_new)`                     | 10             |
    | `intensity_cost`  | `intensity_cost[treatment] * intensity`              | see the table  |
    | `safety_penalty`  | `safety_penalty * number of safety flags this week`  | 1              |
    | `dropout_penalty` | in the week the patient leaves care: `dropout_penalty`| 1              |
    |                   | `+ risk_weight * max(r_first - r_new, 0)`, the       |                |
    |                   | improvement credited so far taken back (baseline     |                |
    |                   | carried forward, as trials count drop-outs)          |                |
    | `cure_bonus`      | `cure_bonus` in the week of sustained remission:     | 2              |
    |                   | `r < cure_threshold` (0.1) for `cure_weeks` (2)      |                |
    |                   | weeks in a row                                       |                |

    Safety flags compare the week's mean signals with the patient's own first (pre-treatment)
    week, as trials count treatment-emergent adverse effects: `sleep_loss` (45 minutes less
    sleep a night or more) and `heart_rate_rise` (resting heart rate 4 bpm faster or more).
    They rarely fire untreated and often in the first weeks of full-dose medication.
    `info["cost"]` is their count, the safety cost alone for constrained RL.

    ## Starting State

    A patient drawn uniformly from the enrolled patients of the cohort (train by default):
    at least moderate on a DASS subscale in the first observed week, and with a predicted risk
    score at or above the cure threshold. The first observation is that first week, with no
    exposure. `reset(options={"patient": i})` starts cohort patient `i` instead.

    ## Episode End

    1. Termination: sustained remission, the risk score under `cure_threshold` for
       `cure_weeks` weeks in a row (cured), or a drop-out: the patient leaves care
       (`info["dropout"]`), more often under burden, side effects and severity (the reference
       simulator's hazard, which the world model learns).
    2. Truncation: `max_weeks` weeks of treatment (24 by default, two 12-week STAR*D levels,
       so that switching after a level without remission can still pay; at most 52).

    ## Info

    The same keys at reset and at every step, numbers only (`mano_gym.envs.infos` has the
    table): `risk_score`, the five reward terms, `cost`, the safety flags, `dropout`,
    `signals` (7 x 5, real units), `treatment` (index into `TREATMENTS`; -1 at reset),
    `intensity`, `patient` (cohort index), `week`. With `dynamics="reference"` also `dass`
    (latent depression, anxiety, stress, 0-42), `true_risk` (0 low, 1 medium, 2 high, from the
    DASS bands) and the simulator's own flags `adverse_event` and `deterioration`.

    ## Arguments

    | argument          | default         | what                                                  |
    |-------------------|-----------------|-------------------------------------------------------|
    | `cohort`          | `"train"`       | `"train"`, `"eval"` (held-out patients), a `.npz`     |
    |                   |                 | written by `mano generate cohort`, or a `Cohort`      |
    | `dynamics`        | `"world_model"` | or `"reference"`: the reference simulator itself      |
    | `action_space`    | `"dict"`        | or `"tuple"`                                          |
    | `max_weeks`       | 24              | truncation, 1 to 52                                   |
    | `risk_weight`     | 10              | and `intensity_cost`, `safety_penalty`, `cure_bonus`, |
    |                   |                 | `cure_threshold`, `cure_weeks`, `dropout_penalty`:    |
    |                   |                 | see Rewards                                           |
    | `device`          | `"cpu"`         | torch device of the models                            |
    | `world_model`     | shipped         | path of another world model file                      |
    | `assets`          | shipped         | an asset set built by `mano train ... --out DIR`: its |
    |                   |                 | world model, cohorts and risk predictor               |
    | `render_mode`     | `None`          | `"ansi"` (a text table) or `"rgb_array"` (a figure)   |

    ## Vectorized environment

    `gymnasium.make_vec("ManoPatient-v0", num_envs=N, device="cpu")` returns
    `ManoPatientVectorEnv`: all N patients step in one tensor operation (`step_tensor` skips
    NumPy for torch agents). The same arguments apply.

    ## Version History

    * v0: initial version; since 2026-12 with drop-out, sustained remission (`cure_weeks`) and
      a 24-week default horizon, on a simulator with moderators and sequential care.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self,
        cohort: str | Path | Cohort = "train",
        dynamics: str = "world_model",
        action_space: str = "dict",
        max_weeks: int = DEFAULT_MAX_WEEKS,
        risk_weight: float = _DEFAULT.risk_weight,
        intensity_cost: tuple[float, ...] = _DEFAULT.intensity_cost,
        safety_penalty: float = _DEFAULT.safety_penalty,
        cure_bonus: float = _DEFAULT.cure_bonus,
        cure_threshold: float = _DEFAULT.cure_threshold,
        cure_weeks: int = _DEFAULT.cure_weeks,
        dropout_penalty: float = _DEFAULT.dropout_penalty,
        device: str = "cpu",
        world_model: str | Path | None = None,
        assets: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"unknown render_mode {render_mode!r}; choose one of "
                f"{', '.join(self.metadata['render_modes'])}"
            )
        self.action_space = make_action_space(action_space)
        self.episodes = make_episodes(
            1,
            cohort,
            dynamics,
            max_weeks,
            RewardWeights(
                risk_weight,
                tuple(intensity_cost),
                safety_penalty,
                cure_bonus,
                cure_threshold,
                cure_weeks,
                dropout_penalty,
            ),
            device,
            world_model,
            assets,
        )
        self.dynamics, self.render_mode, self.max_weeks = dynamics, render_mode, max_weeks
        self._form = action_space
        self.observation_space = make_observation_space(max_weeks)
        self._device = self.episodes.device
        self._records: list[dict] = []
        self._ended = True  # no episode until the first reset

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict]:
        options = dict(options or {})
        unknown = set(options) - {"patient"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(map(str, unknown))}; known: patient")
        patient = options.get("patient")
        episodes = self.episodes
        if patient is not None:
            if isinstance(patient, (bool, np.bool_)) or not isinstance(patient, (int, np.integer)):
                raise ValueError(f"options['patient'] must be a cohort index, got {patient!r}")
            if not 0 <= patient < len(episodes.cohort):
                raise ValueError(
                    f"options['patient'] {patient} is outside the cohort's "
                    f"0..{len(episodes.cohort) - 1}"
                )
        super().reset(seed=seed)
        if patient is None:
            patient = episodes.enrolled[self.np_random.integers(len(episodes.enrolled))]
        with torch.inference_mode():  # nothing of it leaves as a tensor: skip autograd's books
            first = episodes.start(np.zeros(1, np.int64), np.array([patient], np.int64))
            self._draws = RandomDraws(self.np_random)
            self._records = [self._record(None, 0.0, 0.0)]
            self._ended = False
            return self._observation(), row_info(info_arrays(first, self.dynamics))

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        if self._ended:
            raise RuntimeError("the episode has ended (or not begun): call reset() first")
        treatment, intensity = read_actions(action, self._form)
        with torch.inference_mode():  # nothing of it leaves as a tensor: skip autograd's books
            out = self.episodes.step(
                torch.as_tensor(treatment).to(self._device),
                torch.as_tensor(intensity, dtype=torch.float32).to(self._device),
                self._draws,
            )
            return self._finish_step(int(treatment[0]), float(intensity[0]), out)

    def _finish_step(
        self, treatment: int, intensity: float, out: dict[str, torch.Tensor]
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """The step's observation, reward, ends and info from what `Episodes.step` returned."""
        values = {key: out[key].cpu().numpy()[0] for key in RETURNED}
        info = row_info(info_arrays(out, self.dynamics))
        reward = float(values["reward"])
        self._records.append(self._record(treatment, intensity, reward))
        terminated, truncated = bool(values["terminated"]), bool(values["truncated"])
        self._ended = terminated or truncated
        return self._observation(), reward, terminated, truncated, info

    def get_state(self) -> dict[str, Any]:
        """The episode in progress and the random stream, as tensors and plain values (a
        checkpoint reads them back with `torch.load(weights_only=True)`): `set_state` continues
        from them exactly. The rendering history is not part of it."""
        return {
            "episodes": self.episodes.get_state(),
            "np_random": self.np_random.bit_generator.state,
            "ended": self._ended,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from what `get_state` returned (of an environment with the same cohort and
        dynamics); a `ValueError` names what does not fit, and changes nothing. The rendering
        history starts again from here."""
        if not isinstance(state, dict) or {"episodes", "np_random", "ended"} - set(state):
            raise ValueError("not a saved environment state (get_state gives one)")
        rng = restored_rng(state["np_random"], "np_random")
        self.episodes.set_state(state["episodes"])
        self.np_random = rng
        self._draws = RandomDraws(self.np_random)
        self._ended = bool(state["ended"])
        self._records = []

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return render_ansi(self._records)
        if self.render_mode == "rgb_array":
            return render_rgb(self._records)
        return None

    @property
    def history(self) -> list[dict]:
        """The weeks of the current episode so far (week 0 is the first observed week): `week`,
        `treatment` (name, None in week 0), `intensity`, `signals` (7 x 5, real units),
        `risk_score` and `reward`, as rendering shows them."""
        return [dict(record) for record in self._records]

    def _observation(self) -> dict[str, np.ndarray]:
        return {key: value.cpu().numpy()[0] for key, value in self.episodes.observation().items()}

    def _record(self, treatment: int | None, intensity: float, reward: float) -> dict:
        """What rendering shows of one week."""
        state = self.episodes.state
        return {
            "week": int(state.week[0]),
            "treatment": None if treatment is None else TREATMENTS[treatment],
            "intensity": intensity,
            "signals": state.last.cpu().numpy()[0],
            "risk_score": float(state.score[0]),
            "reward": reward,
        }
