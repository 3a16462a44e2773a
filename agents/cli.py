"""The agents' `mano` commands (registered through the `mano.commands` entry point):

mano train --agent {hybrid-ppo, sb3-ppo, sb3-a2c, sb3-sac} --timesteps T --seed S
           --device D --logdir runs/ [--resume] [--ship]
mano evaluate agent --agent NAME|PATH --episodes N --cohort eval
           --dynamics {world_model, reference} [--json]
mano demo
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from pathlib import Path

import torch

from agents.catalog import DEFAULT_POLICY, POLICY_FILE, load_agent
from agents.evaluation import evaluate_policy
from generators.files import atomic_write
from mano_gym.artifacts import ASSETS, code_version, record_artifact, verified_artifact
from mano_gym.cli.generators import print_metrics
from mano_gym.cli.overrides import add_overrides_option, apply_overrides
from mano_gym.cli.threads import add_threads_option, limit_threads
from mano_gym.episodes import DYNAMICS

AGENTS = ("hybrid-ppo", "sb3-ppo", "sb3-a2c", "sb3-sac")
ENV_ARTIFACTS = ("world_model", "cohort_train", "predictor")  # what the policy trained on


def register(
    verbs: argparse._SubParsersAction,
    verb_parsers: dict[str, argparse.ArgumentParser],
    topics: dict[str, argparse._SubParsersAction],
) -> None:
    train = verb_parsers["train"]
    group = train.add_argument_group("agents (mano train --agent NAME)")
    group.add_argument("--agent", choices=AGENTS, help="train this agent")
    group.add_argument("--timesteps", type=int, help="patient-weeks of experience")
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    group.add_argument(
        "--logdir", type=Path, default=Path("runs"), help="runs go to LOGDIR/AGENT-seedS/"
    )
    group.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    group.add_argument(
        "--encoding", choices=("multidiscrete", "box"), help="SB3 agents: the action encoding"
    )
    add_overrides_option(
        group,
        "override a setting of the agent's config, e.g. num_envs=512",
        metavar="FIELD=VALUE",
    )
    group.add_argument(
        "--ship",
        action="store_true",
        help="hybrid-ppo: also write the policy to mano_gym/assets as the shipped default",
    )
    add_threads_option(train)
    train.set_defaults(run=run_train)

    evaluate = topics["evaluate"].add_parser(
        "agent", help="mean return, cure rate and more of an agent on a cohort"
    )
    evaluate.add_argument(
        "--agent", required=True, help="default, a heuristic's name, or a checkpoint path"
    )
    evaluate.add_argument("--episodes", type=int, help="default: every enrolled patient once")
    evaluate.add_argument("--cohort", default="eval", help="'train', 'eval' or a cohort .npz")
    evaluate.add_argument("--dynamics", choices=DYNAMICS, default="world_model")
    evaluate.add_argument("--intensity", type=float, default=0.5, help="of fixed-* heuristics")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)

    demo = verbs.add_parser(
        "demo", help="a synthetic patient treated week by week by the shipped policy"
    )
    demo.add_argument("--seed", type=int, default=0, help="which synthetic patient")
    demo.add_argument("--dynamics", choices=DYNAMICS, default="world_model")
    demo.add_argument("--out", type=Path, default=Path("mano_demo.png"), help="figure to save")
    add_threads_option(demo)
    demo.set_defaults(run=run_demo)


def run_train(args: argparse.Namespace) -> int:
    if args.agent is None:
        raise ValueError(
            "mano train needs a topic (generators, predictor, world-model) or --agent NAME"
        )
    run_dir = args.logdir / f"{args.agent}-seed{args.seed}"
    with limit_threads(args.threads):
        if args.agent == "hybrid-ppo":
            from agents.hybrid_ppo import HybridPPOConfig, train

            config = HybridPPOConfig(seed=args.seed, device=args.device)
            if args.timesteps is not None:
                config.total_timesteps = args.timesteps
            apply_overrides(config, args.set)
            _, summary = train(config, run_dir, resume=args.resume)
        else:
            from agents.sb3_baselines import SB3Config, train_sb3

            config = SB3Config(algorithm=args.agent, seed=args.seed, device=args.device)
            if args.encoding is not None:
                config.encoding = args.encoding
            if args.timesteps is not None:
                config.total_timesteps = args.timesteps
            apply_overrides(config, args.set)
            _, summary = train_sb3(config, run_dir, resume=args.resume)
    print(
        f"{args.agent}: {summary['global_step']:,} steps in {summary['seconds']:.0f} s"
        f" ({summary['sps']:,.0f} steps/s); run in {run_dir}"
    )
    if args.ship:
        if args.agent != "hybrid-ppo":
            raise ValueError("--ship takes the hybrid-ppo agent (the shipped default)")
        ship_policy(run_dir / "checkpoint.pt", summary)
    return 0


def ship_policy(checkpoint: Path, summary: dict) -> None:
    """Copy a hybrid PPO checkpoint into the assets as the default policy, with its manifest
    entry (its evaluation on the held-out cohort under both dynamics included)."""
    target = ASSETS / POLICY_FILE
    with atomic_write(target, "wb") as file:
        file.write(checkpoint.read_bytes())
    policy = load_agent(str(target))
    metrics = {
        f"{dynamics}.{name}": value
        for dynamics in DYNAMICS
        for name, value in evaluate_policy(policy, "eval", dynamics).items()
        if math.isfinite(value)
    }
    config = torch.load(checkpoint, weights_only=True)["config"]
    entry = {
        "code_version": code_version(),
        "inputs": {name: verified_artifact(name)[1]["sha256"] for name in ENV_ARTIFACTS},
        "seed": config["seed"],
        "hyperparameters": config,
        "training": {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()},
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "metrics": metrics,
    }
    record_artifact(DEFAULT_POLICY, target, entry)
    print(f"shipped {target}")


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        policy = load_agent(args.agent, args.intensity)
        metrics = evaluate_policy(policy, args.cohort, args.dynamics, args.episodes, args.seed)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics, f"agent {args.agent} ({args.dynamics})")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from agents.demo import demo

    with limit_threads(args.threads):
        demo(args.seed, args.dynamics, args.out)
    return 0
