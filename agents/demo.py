"""`mano demo`: one synthetic patient, treated week by week by the shipped hybrid PPO policy.

A small cohort is sampled from the shipped generators (CTGAN profile, TimeGAN rhythm, the
reference simulator's prior); its first enrolled patient (at least moderate on a DASS
subscale) is treated in `ManoPatient-v0` until cured or for 12 weeks. The weekly table goes to
the terminal and the episode's figure to a PNG. Offline, on the shipped artifacts only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from agents.catalog import load_agent
from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.cohorts.sampling import make_cohort
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.render import render_ansi

CANDIDATES = 64  # synthetic patients sampled to find one the clinic would enrol


def demo(seed: int = 0, dynamics: str = "world_model", out: Path | None = None) -> list[dict]:
    """Run the demo; returns the weekly records (and prints them, and saves the figure)."""
    cohort = make_cohort(CANDIDATES, seed, load_profile_generator(), load_rhythm_generator())
    env = ManoPatientEnv(cohort=cohort, dynamics=dynamics, render_mode="rgb_array")
    patient = int(env.episodes.enrolled[0])
    policy = load_agent("default")
    obs, info = env.reset(seed=seed, options={"patient": patient})
    profile = cohort.profiles.iloc[patient]
    console = Console()
    console.print(
        f"Synthetic patient {patient} of seed {seed}: {profile['gender']}, age {profile['age']},"
        f" family history {profile['family_history'].lower()}, work interference"
        f" {profile['work_interfere'].lower()}; first-week risk score {info['risk_score']:.2f}."
    )
    rng = np.random.default_rng(seed)
    policy.reset(1)
    done = False
    while not done:
        treatment, intensity = policy.act({k: v[None] for k, v in obs.items()}, rng)
        obs, _, terminated, truncated, info = env.step(
            {"treatment": int(treatment[0]), "intensity": np.array([intensity[0]], np.float32)}
        )
        done = terminated or truncated
    records = env.history
    console.print(f"Weekly treatment ({dynamics} dynamics; signals: the week's means):")
    console.print(render_ansi(records), highlight=False, end="")
    if info["dropout"]:
        ending = f"left care in week {info['week']}"
    elif terminated:
        ending = f"in sustained remission by week {info['week']}"
    else:
        ending = f"not in remission after {env.max_weeks} weeks"
    console.print(f"Outcome: {ending} (risk score {info['risk_score']:.2f}).")
    if out is not None:
        from matplotlib.image import imsave

        imsave(out, env.render())
        console.print(f"Figure: {out}")
    return records
