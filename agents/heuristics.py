"""The clinical heuristics agents are compared with, as policies over batched observations
(the `mano_gym.envs.rollouts.Policy` protocol), by the names `mano evaluate agent --agent` takes.

| name                 | prescribes                                                          |
|----------------------|---------------------------------------------------------------------|
| `control`            | no treatment: `control` every week (at the lowest intensity, 0.1,   |
|                      | which `control` ignores)                                            |
| `random`             | a uniform treatment at a uniform intensity in [0.1, 1.0], every     |
|                      | week anew                                                           |
| `fixed-<treatment>`  | one treatment every week at `intensity` (0.5 unless given), for     |
|                      | `wellness_app`, `cbt`, `exercise` and `medication`                  |
| `stepped-care`       | as NICE guidelines do: start on the wellness app (0.5); after two   |
|                      | weeks without a fall in the risk score step up (CBT 0.6, then       |
|                      | medication 0.6); step down after two weeks of falling risk          |
| `measurement-based-  | STAR*D-like: CBT at 0.6; every 4 weeks on a step without the risk   |
| care`                | score falling by 20%, the next step: CBT 1.0, medication 1.0,       |
|                      | exercise 1.0                                                        |

Each is a behaviour policy of `mano_gym.cohorts.behaviour` (`Untreated`, `RandomPolicy`,
`FixedPolicy`, `SteppedCare`, `MeasurementBasedCare`: the same code that generates the virtual
trials) acting on the
observed risk score `P(medium) * 0.5 + P(high)` through `mano_gym.envs.rollouts.RiskScorePolicy`.
They read nothing else of the observation.

    policy = make_heuristic("fixed-cbt", intensity=0.8)
    outcomes = mano_gym.envs.rollouts.run_policy(policy, cohort="eval")
"""

from __future__ import annotations

from numbers import Real

from mano_gym.cohorts.behaviour import (
    BehaviourPolicy,
    FixedPolicy,
    MeasurementBasedCare,
    RandomPolicy,
    SteppedCare,
    Untreated,
)
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, TREATMENTS
from mano_gym.envs.rollouts import RiskScorePolicy

FIXED_PREFIX = "fixed-"
HEURISTIC_NAMES: tuple[str, ...] = (
    "control",
    "random",
    *(f"{FIXED_PREFIX}{treatment}" for treatment in TREATMENTS[1:]),
    "stepped-care",
    "measurement-based-care",
)


class Heuristic(RiskScorePolicy):
    """A behaviour policy acting on the observed risk score, under its heuristic's name."""

    def __init__(self, name: str, behaviour: BehaviourPolicy) -> None:
        super().__init__(behaviour)
        self.name = name

    def __repr__(self) -> str:
        return f"Heuristic({self.name!r})"


def make_heuristic(name: str, intensity: float = 0.5) -> Heuristic:
    """The heuristic called `name` (see the table); `intensity` is that of the `fixed-*` ones.
    A `ValueError` lists the known names for an unknown one, and rejects an `intensity`
    outside [0.1, 1.0] (whichever heuristic is asked for)."""
    if name not in HEURISTIC_NAMES:
        raise ValueError(
            f"unknown heuristic {name!r}; known heuristics: {', '.join(HEURISTIC_NAMES)}"
        )
    if isinstance(intensity, bool) or not isinstance(intensity, Real):
        raise ValueError(f"intensity must be a number, got {intensity!r}")
    if not INTENSITY_LOW <= intensity <= INTENSITY_HIGH:  # False for NaN as well
        raise ValueError(f"intensity {intensity} outside [{INTENSITY_LOW}, {INTENSITY_HIGH}]")
    if name == "control":
        behaviour: BehaviourPolicy = Untreated()
    elif name == "random":
        behaviour = RandomPolicy()
    elif name == "stepped-care":
        behaviour = SteppedCare()
    elif name == "measurement-based-care":
        behaviour = MeasurementBasedCare()
    else:
        behaviour = FixedPolicy(name.removeprefix(FIXED_PREFIX), float(intensity))
    return Heuristic(name, behaviour)
