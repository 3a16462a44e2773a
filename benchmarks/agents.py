"""The agent benchmark: every agent x several seeds at one environment-step budget, evaluated
on the held-out cohort under both dynamics, aggregated with rliable.

    python -m benchmarks.agents [--timesteps 100000] [--seeds 5]
    python -m benchmarks.agents --ray [--address auto] [--set learning_rate=0.0003,0.001]

Learning agents (hybrid PPO; SB3 PPO and A2C on the MultiDiscrete and Box encodings; SB3 SAC on
Box) train once per seed on the train cohort with world-model dynamics; the clinical
heuristics need no training. Every policy then treats each enrolled held-out patient once
(`agents.evaluation`) under the world model and under the reference simulator, with the seed as
the evaluation seed. A run's score is its mean return; across runs, rliable gives the
interquartile mean with 95% stratified-bootstrap confidence intervals and the probability of
improvement of each agent over stepped care. Learning curves come from the runs' TensorBoard
`charts/episodic_return`.

Writes `benchmarks/results/agents.{json,md,png}`.

`--ray` runs the same grid as a Ray Tune sweep, one trial per agent x seed x setting (`--set
FIELD=V1,V2` crosses a learner's config field with values; each setting is an agent of its own
in the tables, named `agent[field=value]`), on a local Ray or on the cluster at `--address`,
and writes `benchmarks/results/agents_sweep.{json,md}` in the same format. `rllib-ppo`
(`agents.rllib`) is a learner here and needs the `ray` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from rliable import library as rly
from rliable import metrics as rly_metrics

from agents.catalog import load_agent
from agents.evaluation import evaluate_policy
from agents.heuristics import HEURISTIC_NAMES, make_heuristic
from agents.hybrid_ppo import HybridPPOConfig, HybridPPOPolicy, train
from agents.sb3_baselines import SB3Config, SB3Policy, train_sb3
from benchmarks.publish import RESULTS, write_results
from mano_gym.cli.overrides import apply_overrides
from mano_gym.envs.episodes import DYNAMICS

LEARNERS = {  # name: (algorithm, encoding); hybrid PPO has neither
    "hybrid-ppo": (None, None),
    "rllib-ppo": ("rllib", None),
    "sb3-ppo-multidiscrete": ("sb3-ppo", "multidiscrete"),
    "sb3-ppo-box": ("sb3-ppo", "box"),
    "sb3-a2c-multidiscrete": ("sb3-a2c", "multidiscrete"),
    "sb3-a2c-box": ("sb3-a2c", "box"),
    "sb3-sac-box": ("sb3-sac", "box"),
}
LOCAL_LEARNERS = [name for name in LEARNERS if name != "rllib-ppo"]  # the default run
REFERENCE_AGENT = "stepped-care"
HYBRID_ENVS = 256  # patients per hybrid PPO rollout: enough iterations at small budgets


def train_learner(
    name: str, timesteps: int, seed: int, run_dir: Path, reuse: bool, settings: list[str] = ()
):
    """A trained policy of learner `name` (its config with `settings`, `FIELD=VALUE` each) and
    its training summary; with `reuse`, the policy a finished earlier run left in `run_dir`
    (its `summary.json` marks it finished)."""
    done = run_dir / "summary.json"
    if reuse and done.is_file() and LEARNERS[name][0] != "rllib":
        summary = json.loads(done.read_text())
        if summary["timesteps"] == timesteps:
            return load_agent(str(run_dir)), summary
    policy, summary = _train(name, timesteps, seed, run_dir, list(settings))
    done.write_text(json.dumps(summary | {"timesteps": timesteps}))
    return policy, summary


def _train(name: str, timesteps: int, seed: int, run_dir: Path, settings: list[str]):
    algorithm, encoding = LEARNERS[name]
    if algorithm is None:
        config = HybridPPOConfig(
            total_timesteps=timesteps, seed=seed, num_envs=HYBRID_ENVS, num_minibatches=4
        )
        config = apply_overrides(config, settings)
        network, summary = train(config, run_dir, progress=False, overwrite=True)
        return HybridPPOPolicy(network), summary
    if algorithm == "rllib":
        from agents.rllib import RLlibConfig, RLlibPolicy, ray_session, train_rllib

        config = apply_overrides(RLlibConfig(total_timesteps=timesteps, seed=seed), settings)
        with ray_session(num_cpus=os.cpu_count()):
            algo, summary = train_rllib(config, run_dir)
            policy = RLlibPolicy(algo.get_module())
        return policy, summary
    config = SB3Config(algorithm=algorithm, encoding=encoding, total_timesteps=timesteps, seed=seed)
    config = apply_overrides(config, settings)
    model, summary = train_sb3(config, run_dir, progress=False, overwrite=True)
    return SB3Policy(model, encoding), summary


def evaluate_run(policy, seed: int) -> dict[str, dict[str, float]]:
    """`policy` on every enrolled held-out patient once under each dynamics (seed `seed`)."""
    return {dynamics: evaluate_policy(policy, "eval", dynamics, seed=seed) for dynamics in DYNAMICS}


def learning_curve(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(steps, mean episodic return) logged under `charts/episodic_return` in a run."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps, values = [], []
    for events in sorted(run_dir.rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if "charts/episodic_return" in accumulator.Tags()["scalars"]:
            for event in accumulator.Scalars("charts/episodic_return"):
                steps.append(event.step)
                values.append(event.value)
    order = np.argsort(steps)
    return np.array(steps)[order], np.array(values)[order]


def aggregate(scores: dict[str, np.ndarray], seed: int) -> dict[str, float]:
    """IQM with 95% CIs per agent, and the probability of improvement over stepped care."""
    np.random.seed(seed)  # rliable's bootstrap draws from NumPy's global generator
    matrices = {name: values[:, None] for name, values in scores.items()}
    iqm, ci = rly.get_interval_estimates(
        matrices, lambda x: np.array([rly_metrics.aggregate_iqm(x)]), reps=2000
    )
    pairs = {
        name: (matrices[name], matrices[REFERENCE_AGENT])
        for name in matrices
        if name != REFERENCE_AGENT
    }
    poi, poi_ci = rly.get_interval_estimates(
        pairs, lambda x, y: np.array([rly_metrics.probability_of_improvement(x, y)]), reps=2000
    )
    out: dict[str, float] = {}
    for name in matrices:
        out[f"{name}.iqm"] = float(iqm[name][0])
        out[f"{name}.iqm_low"], out[f"{name}.iqm_high"] = (float(v) for v in ci[name][:, 0])
        if name in poi:
            out[f"{name}.poi_vs_stepped_care"] = float(poi[name][0])
            low, high = poi_ci[name][:, 0]
            out[f"{name}.poi_low"], out[f"{name}.poi_high"] = float(low), float(high)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=100_000, help="per learning run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--runs", type=Path, default=Path("runs/benchmark"), help="run folders")
    parser.add_argument("--learners", nargs="*", default=LOCAL_LEARNERS, choices=list(LEARNERS))
    parser.add_argument(
        "--reuse", action="store_true", help="take finished runs from --runs instead of retraining"
    )
    parser.add_argument(
        "--train-only", action="store_true", help="train (e.g. a share of --learners) and stop"
    )
    parser.add_argument("--ray", action="store_true", help="run the grid as a Ray Tune sweep")
    parser.add_argument("--address", help="--ray: a running Ray cluster (default: a local Ray)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="--ray: cross the learners' config FIELD with these values",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    if args.ray:
        runs = sweep(args.learners, args.seeds, args.timesteps, args.runs, args.set, args.address)
        write_tables(runs, args.seeds, args.timesteps, started, "agents_sweep", curves=None)
        return
    trained = {}
    for name in args.learners:
        trained[name] = []
        for seed in range(args.seeds):
            run_dir = args.runs / f"{name}-seed{seed}"
            policy, summary = train_learner(name, args.timesteps, seed, run_dir, args.reuse)
            trained[name].append((summary["seconds"], policy))
            print(f"{name} seed {seed}: {summary['seconds']:.0f} s", flush=True)
    if args.train_only:
        return
    runs = {name: [(None, evaluate_run(make_heuristic(name), s)) for s in range(args.seeds)]
            for name in HEURISTIC_NAMES}  # fmt: skip
    for name, results in trained.items():
        runs[name] = [(t, evaluate_run(policy, s)) for s, (t, policy) in enumerate(results)]
    write_tables(runs, args.seeds, args.timesteps, started, "agents", curves=args.runs)


Run = tuple[float | None, dict[str, dict[str, float]]]  # training seconds, metrics by dynamics


def write_tables(
    runs: dict[str, list[Run]],
    seeds: int,
    timesteps: int,
    started: float,
    name: str,
    curves: Path | None,
) -> None:
    """Aggregate the runs of every agent (`seeds` each) and write `benchmarks/results/NAME.*`;
    with `curves`, the learning curves of the runs there too."""
    metrics: dict[str, float | str] = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, 1 torch thread",
        "timesteps": timesteps,
        "seeds": seeds,
    }
    for dynamics in DYNAMICS:
        scores = {a: np.array([r[dynamics]["mean_return"] for _, r in v]) for a, v in runs.items()}
        for key, value in aggregate(scores, seed=0).items():
            metrics[f"{dynamics}.{key}"] = value
        for agent, values in scores.items():
            metrics[f"{dynamics}.{agent}.mean_return"] = float(values.mean())
        for agent, results in runs.items():
            for key in ("cure_rate", "true_cure_rate", "mean_intensity", "safety_events"):
                if key in results[0][1][dynamics]:
                    values = [r[dynamics][key] for _, r in results]
                    metrics[f"{dynamics}.{agent}.{key}"] = float(np.mean(values))
    for agent, results in runs.items():
        if results[0][0] is not None:
            metrics[f"training_seconds.{agent}"] = float(sum(t for t, _ in results))
    metrics["benchmark_seconds"] = time.perf_counter() - started
    if curves is not None:
        learners = [agent for agent, results in runs.items() if results[0][0] is not None]
        plot_curves(curves, learners, seeds, RESULTS / f"{name}.png")
    write_results(name, metrics, markdown(metrics, list(runs), figure=curves is not None))


def sweep(
    learners: list[str],
    seeds: int,
    timesteps: int,
    runs: Path,
    settings: list[str],
    address: str | None,
    heuristics: tuple[str, ...] = HEURISTIC_NAMES,
) -> dict[str, list[Run]]:
    """Every learner x seed x setting, and every heuristic x seed, as Ray Tune trials; the
    runs by agent name (`agent[field=value,...]` for a setting)."""
    from ray import tune

    from agents.rllib import ray_session

    runs = runs.resolve()  # Tune runs each trial in a folder of its own
    grid = [[]]
    for assignment in settings:
        field, _, values = assignment.partition("=")
        grid = [g + [f"{field}={v}"] for g in grid for v in values.split(",")]

    def trial(space: dict) -> dict:
        agent, seed, setting = (space["trial"][key] for key in ("agent", "seed", "setting"))
        torch.set_num_threads(1)
        if agent in HEURISTIC_NAMES:
            return {"seconds": -1.0, "metrics": evaluate_run(make_heuristic(agent), seed)}
        run_dir = runs / f"{_label(agent, setting)}-seed{seed}"
        policy, summary = train_learner(agent, timesteps, seed, run_dir, False, setting)
        return {"seconds": summary["seconds"], "metrics": evaluate_run(policy, seed)}

    trials = [  # a heuristic has no settings: one trial a seed
        {"agent": agent, "seed": seed, "setting": setting}
        for agent in [*heuristics, *learners]
        for setting in (grid if agent in learners else [[]])
        for seed in range(seeds)
    ]
    with ray_session(address, num_cpus=None if address else os.cpu_count()):
        tuner = tune.Tuner(
            tune.with_resources(trial, {"cpu": 1}),
            param_space={"trial": tune.grid_search(trials)},
            run_config=tune.RunConfig(
                storage_path=str(runs / "ray"), verbose=0, name="agents-sweep"
            ),
        )
        results = tuner.fit()
    out: dict[str, list[Run]] = {}
    for result in sorted(results, key=lambda r: r.config["trial"]["seed"]):
        if result.error is not None:
            raise RuntimeError(f"trial {result.config['trial']} failed: {result.error}")
        label = _label(result.config["trial"]["agent"], result.config["trial"]["setting"])
        seconds = result.metrics["seconds"]
        out.setdefault(label, []).append(
            (None if seconds < 0 else seconds, result.metrics["metrics"])
        )
    return out


def _label(agent: str, setting: list[str]) -> str:
    """An agent's name in the tables: with its settings, `agent[field=value,...]`."""
    return agent + (f"[{','.join(setting)}]" if setting else "")


def plot_curves(runs: Path, learners: list[str], seeds: int, out: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for name in learners:
        curves = [learning_curve(runs / f"{name}-seed{seed}") for seed in range(seeds)]
        curves = [c for c in curves if len(c[0])]
        if not curves:
            continue
        grid = np.linspace(0, min(c[0].max() for c in curves), 50)
        values = np.array([np.interp(grid, *c) for c in curves])
        ax.plot(grid, values.mean(axis=0), label=name)
        ax.fill_between(grid, values.min(axis=0), values.max(axis=0), alpha=0.15)
    ax.set(
        xlabel="environment steps (patient-weeks)",
        ylabel="episodic return (training, world model)",
        title="Learning curves: mean and range over seeds",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)


def markdown(m: dict, agents: list[str], figure: bool = True) -> str:
    lines = [
        f"{m['machine']}; {m['seeds']} seeds per agent, {m['timesteps']:,} environment steps per"
        " learning run (trained on the train cohort under the world model); evaluated on the"
        " held-out cohort, every enrolled patient once per run. Training time per run: "
        + ", ".join(
            f"{name} {m[key] / m['seeds']:.0f} s"
            for key in m
            if key.startswith("training_seconds.")
            for name in [key.removeprefix("training_seconds.")]
        )
        + ".",
        "",
    ]
    for dynamics in DYNAMICS:
        lines += [
            f"Under {dynamics.replace('_', ' ')} dynamics:",
            "",
            "| agent | IQM return [95% CI] | P(improvement over stepped care) [95% CI] | cure rate"
            + (" | true cure rate" if dynamics == "reference" else "")
            + " | mean intensity |",
            "|---|---|---|---:" + ("|---:" if dynamics == "reference" else "") + "|---:|",
        ]
        order = sorted(agents, key=lambda a: -m[f"{dynamics}.{a}.iqm"])
        for agent in order:
            k = f"{dynamics}.{agent}"
            poi = (
                f"{m[f'{k}.poi_vs_stepped_care']:.2f} [{m[f'{k}.poi_low']:.2f},"
                f" {m[f'{k}.poi_high']:.2f}]"
                if agent != REFERENCE_AGENT
                else "-"
            )
            row = (
                f"| {agent} | {m[f'{k}.iqm']:+.3f} [{m[f'{k}.iqm_low']:+.3f},"
                f" {m[f'{k}.iqm_high']:+.3f}] | {poi} | {m[f'{k}.cure_rate']:.3f}"
            )
            if dynamics == "reference":
                row += f" | {m[f'{k}.true_cure_rate']:.3f}"
            lines.append(row + f" | {m[f'{k}.mean_intensity']:.2f} |")
        lines.append("")
    if figure:
        lines.append("![learning curves](benchmarks/results/agents.png)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # SubprocVecEnv-safe
    main()
