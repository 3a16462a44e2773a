"""The agents' `mano` commands (registered through the `mano.commands` entry point):

mano train --agent {hybrid-ppo, sb3-ppo, sb3-a2c, sb3-sac} --timesteps T --seed S
           --device D --logdir runs/ [--assets DIR] [--resume] [--out DIR | --ship]
mano evaluate agent --agent NAME|PATH --episodes N --cohort eval
           --dynamics {world_model, reference} [--json]
mano generate offline-dataset --policy NAME --episodes N --epsilon E --out DIR
           [--dynamics reference] [--cohort train]
mano demo
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from agents.catalog import load_agent
from agents.evaluation import evaluate_policy
from agents.hybrid_ppo import POLICY_KEYS, save_checkpoint
from mano_gym.assets import COHORTS, FILES, LATENT, POLICY, PREDICTORS, WORLD_MODEL
from mano_gym.build.manifest import (
    code_version,
    input_hashes,
    machine,
    output_folder,
    published,
    record_artifact,
    staged_assets,
)
from mano_gym.cli.generators import print_metrics
from mano_gym.cli.options import (
    add_threads_option,
    add_training_options,
    limit_threads,
    positive_int,
    seed,
    shortcuts,
)
from mano_gym.cli.overrides import apply_overrides
from mano_gym.envs.episodes import DYNAMICS

AGENTS = ("hybrid-ppo", "sb3-ppo", "sb3-a2c", "sb3-sac")
ENV_ARTIFACTS = (WORLD_MODEL, COHORTS["train"], PREDICTORS[LATENT])  # what a policy trains on


def register(
    verbs: argparse._SubParsersAction,
    verb_parsers: dict[str, argparse.ArgumentParser],
    topics: dict[str, argparse._SubParsersAction],
) -> None:
    train = verb_parsers["train"]
    group = train.add_argument_group("agents (mano train --agent NAME)")
    group.add_argument("--agent", choices=AGENTS, help="train this agent")
    group.add_argument("--timesteps", type=positive_int, help="patient-weeks of experience")
    group.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in a run folder that already holds a run",
    )
    group.add_argument(
        "--trusted",
        action="store_true",
        help="SB3 --resume: unpickle the checkpoint's objects instead of rebuilding them (only "
        "a run you wrote yourself)",
    )
    group.add_argument(
        "--encoding", choices=("multidiscrete", "box"), help="SB3 agents: the action encoding"
    )
    add_training_options(
        group,
        "override a setting of the agent's config, e.g. num_envs=512",
        overrides_metavar="FIELD=VALUE",
        out_help="hybrid-ppo: also write an asset set with the trained policy as its default",
        defaults={"seed": 0, "device": "cpu", "logdir": Path("runs")},
    )
    train.set_defaults(run=run_train)

    evaluate = topics["evaluate"].add_parser(
        "agent", help="mean return, cure rate and more of an agent on a cohort"
    )
    evaluate.add_argument(
        "--agent", required=True, help="default, a heuristic's name, or a checkpoint path"
    )
    evaluate.add_argument(
        "--episodes", type=positive_int, help="default: every enrolled patient once"
    )
    evaluate.add_argument("--cohort", default="eval", help="'train', 'eval' or a cohort .npz")
    evaluate.add_argument("--dynamics", choices=DYNAMICS, default="world_model")
    evaluate.add_argument("--intensity", type=float, default=0.5, help="of fixed-* heuristics")
    evaluate.add_argument("--seed", type=seed, default=0)
    evaluate.add_argument(
        "--assets", type=Path, help="asset set of the environment (default: the shipped set)"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--trusted",
        action="store_true",
        help="an SB3 run: unpickle its objects instead of rebuilding them (only your own runs)",
    )
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)

    offline = topics["generate"].add_parser(
        "offline-dataset",
        help="a Minari dataset of episodes under a behaviour policy (pip install "
        "mano-gym[offline])",
    )
    offline.add_argument("--policy", default="default", help="an agent name, as evaluate takes")
    offline.add_argument("--episodes", type=positive_int, default=100)
    offline.add_argument(
        "--epsilon", type=float, default=0.1, help="probability of a uniform action instead"
    )
    offline.add_argument("--cohort", default="train", help="'train', 'eval' or a cohort .npz")
    offline.add_argument("--dynamics", choices=DYNAMICS, default="world_model")
    offline.add_argument("--intensity", type=float, default=0.5, help="of fixed-* heuristics")
    offline.add_argument("--seed", type=seed, default=0)
    offline.add_argument("--dataset-id", help="default: mano/<policy>-eps<epsilon>-<dynamics>-v0")
    offline.add_argument("--out", type=Path, required=True, help="Minari datasets folder")
    offline.add_argument("--assets", type=Path, help="asset set (default: the shipped set)")
    offline.add_argument(
        "--trusted",
        action="store_true",
        help="a run as --policy: unpickle what it holds (only your own runs)",
    )
    add_threads_option(offline)
    offline.set_defaults(run=run_offline_dataset)

    demo = verbs.add_parser(
        "demo", help="a synthetic patient treated week by week by the shipped policy"
    )
    demo.add_argument("--seed", type=seed, default=0, help="which synthetic patient")
    demo.add_argument("--dynamics", choices=DYNAMICS, default="world_model")
    demo.add_argument("--out", type=Path, default=Path("mano_demo.png"), help="figure to save")
    add_threads_option(demo)
    demo.set_defaults(run=run_demo)


def run_offline_dataset(args: argparse.Namespace) -> int:
    from agents.offline_dataset import OfflineDatasetConfig, write_offline_dataset

    config = OfflineDatasetConfig(
        policy=args.policy,
        episodes=args.episodes,
        epsilon=args.epsilon,
        seed=args.seed,
        cohort=args.cohort,
        dynamics=args.dynamics,
        intensity=args.intensity,
        dataset_id=args.dataset_id,
    )
    with limit_threads(args.threads):
        dataset = write_offline_dataset(config, args.out, args.assets, args.trusted)
    print(
        f"wrote {dataset.total_episodes} episodes ({dataset.total_steps} steps) as "
        f"{config.name} in {args.out}; read it with MINARI_DATASETS_PATH={args.out} and "
        f"minari.load_dataset({config.name!r})"
    )
    return 0


def run_train(args: argparse.Namespace) -> int:
    if args.agent is None:
        raise ValueError(
            "mano train needs a topic (generators, predictor, world-model) or --agent NAME"
        )
    publish = args.out is not None or args.ship
    if publish and args.agent != "hybrid-ppo":
        raise ValueError("--out and --ship take the hybrid-ppo agent (the default policy)")
    out = output_folder(args.out, args.ship) if publish else None
    run_dir = args.logdir / f"{args.agent}-seed{args.seed}"
    fields = {"seed": ("seed",), "device": ("device",), "timesteps": ("total_timesteps",)}
    fields["assets"] = ("assets",)
    with limit_threads(args.threads):
        if args.agent == "hybrid-ppo":
            from agents.hybrid_ppo import HybridPPOConfig, train

            config = apply_overrides(HybridPPOConfig(), shortcuts(args, fields))
            _, summary = train(config, run_dir, resume=args.resume, overwrite=args.overwrite)
        else:
            from agents.sb3_baselines import SB3Config, train_sb3

            fields["encoding"] = ("encoding",)
            config = apply_overrides(SB3Config(algorithm=args.agent), shortcuts(args, fields))
            _, summary = train_sb3(
                config, run_dir, resume=args.resume, trusted=args.trusted, overwrite=args.overwrite
            )
    print(
        f"{args.agent}: {summary['global_step']:,} steps in {summary['seconds']:.0f} s"
        f" ({summary['sps']:,.0f} steps/s); run in {run_dir}"
    )
    if out is not None:
        publish_policy(run_dir / "checkpoint.pt", summary, out, config.assets)
    return 0


def publish_policy(
    checkpoint: Path, summary: dict, out: Path, assets: str | Path | None = None
) -> None:
    """Write asset set `out`: a copy of `assets` with the hybrid PPO `checkpoint` as its
    default policy and its manifest entry (its evaluation on the held-out cohort under both
    dynamics included), staged so that a failure leaves `out` as it was."""
    payload = torch.load(checkpoint, weights_only=True)
    config = payload["config"]
    with staged_assets(out, assets) as staging:
        target = staging / FILES[POLICY]
        # the policy without the episodes in flight and random streams kept for a resume
        save_checkpoint(target, {key: payload[key] for key in POLICY_KEYS})
        policy = load_agent(str(target))
        metrics = {
            f"{dynamics}.{name}": value
            for dynamics in DYNAMICS
            for name, value in evaluate_policy(policy, "eval", dynamics, assets=staging).items()
            if math.isfinite(value)
        }
        entry = {
            "code_version": code_version(),
            "inputs": input_hashes(ENV_ARTIFACTS, staging),
            "seed": config["seed"],
            "hyperparameters": config,
            "training": {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()},
            "machine": machine(),
            "metrics": metrics,
        }
        record_artifact(POLICY, FILES[POLICY], entry, staging)
    print(f"wrote {out / published(out, [POLICY])[POLICY]['file']}")


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        policy = load_agent(args.agent, args.intensity, assets=args.assets, trusted=args.trusted)
        metrics = evaluate_policy(
            policy, args.cohort, args.dynamics, args.episodes, args.seed, assets=args.assets
        )
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
