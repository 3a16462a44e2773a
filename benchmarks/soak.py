"""Soak: a long run of the environment, watching memory and numbers.

    python -m benchmarks.soak [--batched-steps 1000000] [--single-steps 20000]

Steps the natively batched environment (4,096 patients, random valid actions through the
tensor path) for `--batched-steps` patient-steps and the single environment for
`--single-steps` steps (`action_space.sample()`), counting non-finite values in observations
and rewards and observations outside the declared space, and recording the resident memory
(RSS) after warm-up and at the end. Writes `benchmarks/results/soak.{json,md}`.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import gymnasium as gym
import numpy as np
import torch

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from benchmarks.publish import write_results
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS

BATCH = 4096


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux `/proc`)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def soak_batched(steps: int, seed: int = 0) -> dict[str, float]:
    envs = gym.make_vec("ManoPatient-v0", num_envs=BATCH).unwrapped
    space = envs.single_observation_space
    obs = envs.reset_tensor(seed=seed)
    generator = torch.Generator().manual_seed(seed)
    counts = {"non_finite": 0, "outside_space": 0, "episodes": 0}
    rounds = max(1, steps // BATCH)
    warm, start = None, time.perf_counter()
    for k in range(rounds):
        treatment = torch.randint(0, N_TREATMENTS, (BATCH,), generator=generator)
        intensity = torch.empty(BATCH).uniform_(INTENSITY_LOW, INTENSITY_HIGH, generator=generator)
        obs, reward, terminated, truncated, _ = envs.step_tensor(treatment, intensity)
        counts["non_finite"] += int((~torch.isfinite(reward)).sum())
        for key, value in obs.items():
            counts["non_finite"] += int((~torch.isfinite(value)).sum())
            low, high = torch.as_tensor(space[key].low), torch.as_tensor(space[key].high)
            counts["outside_space"] += int(((value < low) | (value > high)).any(dim=-1).sum())
        counts["episodes"] += int((terminated | truncated).sum())
        if k == min(10, rounds - 1):
            warm = rss_mb()
    return {
        "batched.patient_steps": rounds * BATCH,
        "batched.seconds": time.perf_counter() - start,
        "batched.rss_after_warm_up_mb": warm,
        "batched.rss_end_mb": rss_mb(),
        **{f"batched.{key}": value for key, value in counts.items()},
    }


def soak_single(steps: int, seed: int = 0) -> dict[str, float]:
    env = gym.make("ManoPatient-v0")
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    counts = {"non_finite": 0, "outside_space": 0, "episodes": 0}
    warm, start = None, time.perf_counter()
    for k in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        values = np.concatenate([np.ravel(v) for v in obs.values()] + [[reward]])
        counts["non_finite"] += int((~np.isfinite(values)).sum())
        counts["outside_space"] += int(not env.observation_space.contains(obs))
        if terminated or truncated:
            counts["episodes"] += 1
            obs, _ = env.reset()
        if k == min(1000, steps - 1):
            warm = rss_mb()
    return {
        "single.steps": steps,
        "single.seconds": time.perf_counter() - start,
        "single.rss_after_warm_up_mb": warm,
        "single.rss_end_mb": rss_mb(),
        **{f"single.{key}": value for key, value in counts.items()},
    }


def markdown(m: dict) -> str:
    rows = [
        ("batched", f"{m['batched.patient_steps']:,} patient-steps (N={BATCH:,})"),
        ("single", f"{m['single.steps']:,} steps"),
    ]
    lines = [
        f"{m['machine']}; torch {torch.__version__}.",
        "",
        "| run | length | episodes | seconds | non-finite values | observations outside "
        "the space | RSS after warm-up | RSS at the end |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, length in rows:
        lines.append(
            f"| {key} | {length} | {m[f'{key}.episodes']:,} | {m[f'{key}.seconds']:.0f} |"
            f" {m[f'{key}.non_finite']} | {m[f'{key}.outside_space']} |"
            f" {m[f'{key}.rss_after_warm_up_mb']:.0f} MB | {m[f'{key}.rss_end_mb']:.0f} MB |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batched-steps", type=int, default=1_000_000)
    parser.add_argument("--single-steps", type=int, default=20_000)
    args = parser.parse_args(argv)
    metrics = {"machine": f"{platform.machine()} CPU, {os.cpu_count()} cores"}
    metrics |= soak_batched(args.batched_steps) | soak_single(args.single_steps)
    write_results("soak", metrics, markdown(metrics))


if __name__ == "__main__":
    main()
