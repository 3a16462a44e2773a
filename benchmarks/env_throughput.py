"""Steps per second of ManoPatient-v0: one environment, Gymnasium's `SyncVectorEnv`, and the
native batched environment, with CartPole-v1 measured in the same run as the yardstick.

    python -m benchmarks.env_throughput [--seconds 3]

Writes `benchmarks/results/env_throughput.{json,md}`. Single environments (CartPole-v1 and
ManoPatient-v0 alike) step with `env.action_space.sample()` inside the timed loop, as a user's
script does; vectorised ones take actions drawn before timing. Episodes reset as they end (the
batched environment resets rows itself). CartPole-v1, the single environment and the batched
one of the largest N (the two with a goal) are measured in turns, three times each, and their
medians kept, so that the machine's drift weighs on the yardstick too. Also measures, in fresh
processes, a bare `import torch` and then `gymnasium.make("ManoPatient-v0")` with the first
`reset`; and one patient's forward passes of the risk predictor and the world model in torch
against their NumPy twins, which the single environment steps through.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import timeit
from functools import partial

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from benchmarks.publish import write_results
from mano_gym.assets import load_cohort, load_risk_predictor, load_world_model
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.dynamics.world_model import WeekInputs
from mano_gym.envs.episodes import SMALL_BATCH, one_torch_thread

BATCHES = (64, 1024, 4096)
SYNC_ENVS = 16
AUTORESET = ("NEXT_STEP", "SAME_STEP")
START_UP = (
    "import time; t = time.perf_counter(); import torch; u = time.perf_counter(); "
    "import gymnasium, mano_gym; env = gymnasium.make('ManoPatient-v0'); env.reset(seed=0); "
    "print(u - t, time.perf_counter() - u)"
)


def _timed(step, seconds: float) -> float:
    """Calls of `step` per second over about `seconds` (after one warm-up call)."""
    step()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    return calls / (time.perf_counter() - start)


def single_env(env_id: str, seconds: float) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)

    def step() -> None:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()

    return _timed(step, seconds)


def goal_rates(seconds: float, rounds: int = 3) -> dict[str, float]:
    """Steps per second of CartPole-v1 and of the two environments held to a multiple of it,
    the single ManoPatient-v0 and the native batched one of the largest N (CPU, tensor path),
    each the median of `rounds` measurements taken in turns, so that a busy or quiet moment
    of the machine weighs on the yardstick and the measured alike."""
    measures = {
        "cartpole": lambda t: single_env("CartPole-v1", t),
        "single": lambda t: single_env("ManoPatient-v0", t),
        f"batched_cpu_{BATCHES[-1]}": lambda t: batched(BATCHES[-1], t, "cpu", True),
    }
    rates: dict[str, list[float]] = {key: [] for key in measures}
    for _ in range(rounds):
        for key, measure in measures.items():
            rates[key].append(measure(seconds / rounds))
    return {f"{key}.steps_per_second": float(np.median(v)) for key, v in rates.items()}


def sync_vector(n: int, seconds: float) -> float:
    envs = gym.make_vec("ManoPatient-v0", num_envs=n, vectorization_mode="sync")
    envs.reset(seed=0)
    envs.action_space.seed(0)
    actions = [envs.action_space.sample() for _ in range(100)]
    count = [0]

    def step() -> None:
        envs.step(actions[count[0] % len(actions)])
        count[0] += 1

    return n * _timed(step, seconds)


def batched(
    n: int,
    seconds: float,
    device: str,
    tensor_path: bool,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
) -> float:
    envs = gym.make_vec("ManoPatient-v0", num_envs=n, device=device, autoreset_mode=autoreset_mode)
    envs.reset(seed=0)
    generator = torch.Generator(device).manual_seed(0)
    treatment = torch.randint(0, N_TREATMENTS, (n,), generator=generator, device=device)
    intensity = torch.empty(n, device=device).uniform_(
        INTENSITY_LOW, INTENSITY_HIGH, generator=generator
    )
    if tensor_path:
        return n * _timed(lambda: envs.unwrapped.step_tensor(treatment, intensity), seconds)
    actions = {"treatment": treatment.cpu().numpy(), "intensity": intensity.cpu().numpy()[:, None]}
    return n * _timed(lambda: envs.step(actions), seconds)


def autoreset_modes(n: int, seconds: float, rounds: int = 3) -> dict[str, float]:
    """Tensor-path patient-steps per second of N patients under each autoreset mode, the median
    of `rounds` measurements taken in turns."""
    rates: dict[str, list[float]] = {mode: [] for mode in AUTORESET}
    for _ in range(rounds):
        for mode in rates:
            rates[mode].append(batched(n, seconds / rounds, "cpu", True, AutoresetMode[mode]))
    return {
        f"autoreset_{mode}_{n}.steps_per_second": float(np.median(v)) for mode, v in rates.items()
    }


def one_patient_forward_ms(repeats: int = 7, number: int = 300) -> dict[str, float]:
    """Milliseconds of one patient's forward pass (the best of `repeats` runs of `number`
    calls), in torch on one thread under `inference_mode` and through the NumPy twins: the
    risk predictor's probabilities and the world model's sampled week."""
    cohort = load_cohort("eval")
    static = torch.from_numpy(cohort.static[:1].astype(np.float32))
    signals = torch.from_numpy(cohort.first_signals[:1])
    baseline = torch.from_numpy(cohort.patients.rhythm[:1].astype(np.float32))
    predictor, model = load_risk_predictor(), load_world_model()
    week = WeekInputs(
        static, baseline, signals, torch.zeros(1, N_TREATMENTS), torch.tensor([2]),
        torch.tensor([0.5]),
    )  # fmt: skip
    belief, noise = model.initial_belief(1), torch.zeros_like(signals)
    passes = {
        "predictor": (predictor, lambda m: m.predict_proba_tensor(static, signals)),
        "world_model": (model, lambda m: m.sample(week, belief, noise)),
    }
    times = {}
    with one_torch_thread(), torch.inference_mode():
        for name, (original, run) in passes.items():
            for kind, m in (("torch", original), ("numpy", original.numpy_twin())):
                best = min(timeit.repeat(partial(run, m), number=number, repeat=repeats))
                times[f"one_patient.{name}_{kind}_ms"] = 1e3 * best / number
    return times


def start_up_seconds(repeats: int = 3) -> tuple[float, float]:
    """Medians over fresh processes of a bare `import torch`, and of `gymnasium.make` with the
    first `reset` after it (the rest of the imports included)."""
    runs = [
        subprocess.run([sys.executable, "-c", START_UP], capture_output=True, text=True,
                       check=True).stdout.split()
        for _ in range(repeats)
    ]  # fmt: skip
    torch_seconds, make_seconds = np.median(np.array(runs, dtype=float), axis=0)
    return float(torch_seconds), float(make_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per measurement")
    args = parser.parse_args(argv)
    s = args.seconds
    threads = torch.get_num_threads()
    metrics: dict[str, float | str] = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        "torch_threads": threads,
        **goal_rates(s),
        f"sync_vector_{SYNC_ENVS}.steps_per_second": sync_vector(SYNC_ENVS, s),
    }
    metrics["import_torch_seconds"], metrics["make_and_reset_seconds"] = start_up_seconds()
    metrics |= one_patient_forward_ms()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for n in BATCHES:
            key = f"batched_{device}_{n}.steps_per_second"
            if key not in metrics:  # the goal's row is measured in turns with CartPole
                metrics[key] = batched(n, s, device, True)
        metrics[f"batched_{device}_{BATCHES[-1]}_numpy.steps_per_second"] = batched(
            BATCHES[-1], s, device, False
        )
    metrics |= autoreset_modes(BATCHES[-1], 2 * s)
    if torch.cuda.is_available():
        metrics["cuda_device"] = torch.cuda.get_device_name()
    write_results("env_throughput", metrics, markdown(metrics, devices))


def markdown(m: dict, devices: list[str]) -> str:
    cartpole = m["cartpole.steps_per_second"]

    def row(label: str, key: str, goal: str = "") -> str:
        value = m[key]
        return f"| {label} | {value:,.0f} | {value / cartpole:.3f} | {goal} |"

    lines = [
        f"{m['machine']}; torch {torch.__version__}, {m['torch_threads']} threads (the"
        f" environment steps batches of up to {SMALL_BATCH} patients on one); patient-steps per"
        " second (one patient-step = one week of one patient). The rows with a goal and"
        " CartPole are medians of 3 measurements taken in turns.",
        "",
        "| environment | steps/s | x CartPole-v1 | goal |",
        "|---|---:|---:|---|",
        row("CartPole-v1, single env (yardstick)", "cartpole.steps_per_second"),
        row("ManoPatient-v0, single env", "single.steps_per_second", ">= 0.01 x CartPole"),
        row(
            f"ManoPatient-v0, Gymnasium SyncVectorEnv of {SYNC_ENVS}",
            f"sync_vector_{SYNC_ENVS}.steps_per_second",
        ),
    ]
    for device in devices:
        for n in BATCHES:
            goal = ">= 0.5 x CartPole" if (device, n) == ("cpu", 4096) else ""
            lines.append(
                row(f"native batched, N={n:,}, {device}, tensor path",
                    f"batched_{device}_{n}.steps_per_second", goal)
            )  # fmt: skip
        lines.append(
            row(f"native batched, N={BATCHES[-1]:,}, {device}, NumPy path",
                f"batched_{device}_{BATCHES[-1]}_numpy.steps_per_second")
        )  # fmt: skip
    n = BATCHES[-1]
    next_step, same_step = (m[f"autoreset_{mode}_{n}.steps_per_second"] for mode in AUTORESET)
    lines += [
        "",
        f"Autoreset, N={n:,}, cpu, tensor path (median of 3 in turns): `NEXT_STEP` (the"
        f" default) {next_step:,.0f} patient-steps/s, `SAME_STEP` {same_step:,.0f}; ratio"
        f" {next_step / same_step:.2f} (goal >= 0.90).",
        "",
        f"Start-up, in fresh processes (median of 3): a bare `import torch` takes"
        f" {m['import_torch_seconds']:.2f} s; after it, importing Mano,"
        f' `gymnasium.make("ManoPatient-v0")` and the first `reset` take'
        f" {m['make_and_reset_seconds']:.2f} s more (goal <= 0.5 s).",
        "",
        "One patient's forward pass (best of 7 x 300 calls), torch on one thread against the"
        " NumPy twins the single environment steps through:",
        "",
        "| network | torch, ms | NumPy twin, ms |",
        "|---|---:|---:|",
        *(
            f"| {label} | {m[f'one_patient.{key}_torch_ms']:.3f} |"
            f" {m[f'one_patient.{key}_numpy_ms']:.3f} |"
            for key, label in (
                ("predictor", "risk predictor (class probabilities)"),
                ("world_model", "world model (a sampled week)"),
            )
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
