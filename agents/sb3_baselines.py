"""Stable-Baselines3 baselines on `ManoPatient-v0`: PPO and A2C on either flat action encoding,
SAC on the `Box` one, through `mano_gym.wrappers`.

| name      | algorithm | encodings (default first) | wrapper                                 |
|-----------|-----------|---------------------------|-----------------------------------------|
| `sb3-ppo` | `PPO`     | `multidiscrete`, `box`    | `MultiDiscreteActionWrapper` (10 bins), |
| `sb3-a2c` | `A2C`     | `multidiscrete`, `box`    | or `BoxActionWrapper`                   |
| `sb3-sac` | `SAC`     | `box`                     | `BoxActionWrapper`                      |

SB3 has no hybrid action space, so these agents see the hybrid action flattened (what each
encoding loses is in the wrappers' docstrings); they are baselines for the dual-head hybrid PPO
(`agents.hybrid_ppo`), trained with SB3's own vectorisation (`DummyVecEnv` or
`SubprocVecEnv` of single patients, each in SB3's `Monitor`) and SB3's documented default
hyperparameters.

    mano train --agent sb3-ppo --encoding box --timesteps 200000 --logdir runs/

A run directory holds `checkpoint.zip` (SB3's own file), `checkpoint.json` (which algorithm,
encoding and config made it) and TensorBoard logs (`PPO_1/`, ...). Beside SB3's own scalars
(`rollout/ep_rew_mean` from `Monitor`, `train/*`, `time/fps`) a callback logs the tags the
hybrid PPO uses, averaged since the previous dump: `charts/episodic_return`,
`charts/cure_rate`, `charts/dropout_rate`, `charts/risk_reduction`, `charts/safety_cost` (per
ended episode),
`charts/mean_intensity` and `charts/treatment_mix/<treatment>` (per patient-week).

A trained model acts as a `mano_gym.envs.rollouts.Policy` through `SB3Policy`
(`load_sb3_policy(run_dir)`), so `mano evaluate agent --agent runs/sb3-ppo-seed0` compares it
with the hybrid PPO and the heuristics on the same patients.
"""

from __future__ import annotations

import inspect
import io
import json
import random
import time
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv
from tqdm import TqdmExperimentalWarning

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from generators.config_checks import (
    DEVICE,
    NON_NEGATIVE_INT,
    OPTIONAL_FOLDER,
    POSITIVE_INT,
    check_fields,
    one_of,
)
from generators.files import atomic_write, file_sha256
from mano_gym.dynamics.treatments import N_TREATMENTS, TREATMENTS
from mano_gym.envs.episodes import DYNAMICS, RewardWeights
from mano_gym.wrappers import (
    BoxActionWrapper,
    MultiDiscreteActionWrapper,
    decode_box,
    decode_multidiscrete,
)

SB3_ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"sb3-ppo": PPO, "sb3-a2c": A2C, "sb3-sac": SAC}
ENCODINGS = ("multidiscrete", "box")
DEFAULT_ENCODING = {"sb3-ppo": "multidiscrete", "sb3-a2c": "multidiscrete", "sb3-sac": "box"}
WRAPPERS = {"multidiscrete": MultiDiscreteActionWrapper, "box": BoxActionWrapper}
VEC_ENVS: dict[str, type[VecEnv]] = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}
POLICY = "MultiInputPolicy"  # the observation is a Dict
CHECKPOINT = "checkpoint.zip"
FORMAT = "mano-sb3-1"
TRAINING_STATE = "mano_state.pt"  # inside the zip; SB3 reads only its own members
# set by `SB3Config`'s own fields or by `train_sb3`, never through `hyperparameters`
_MANAGED = ("policy", "env", "seed", "device", "tensorboard_log", "verbose", "_init_setup_model")


@dataclass
class SB3Config:
    """One SB3 baseline run. The learning hyperparameters are SB3's documented defaults for
    the algorithm (PPO: `n_steps=2048` per env, `batch_size=64`, `n_epochs=10`,
    `learning_rate=3e-4`; A2C: `n_steps=5`, RMSprop at `7e-4`; SAC: `buffer_size=1_000_000`,
    `learning_starts=100`, `batch_size=256`, ...), with `policy="MultiInputPolicy"` because
    the observation is a `Dict`. They are neither weakened nor tuned for Mano: these are
    baselines as a practitioner would first run them.

    `hyperparameters` passes keyword arguments to the algorithm's constructor over those
    defaults; it exists for tests (tiny rollouts) and deliberate experiments, and a run that
    uses it is not the default baseline. `encoding=None` picks the algorithm's default
    (`multidiscrete` for PPO and A2C, `box` for SAC, which needs a continuous action)."""

    algorithm: str = "sb3-ppo"  # one of SB3_ALGORITHMS
    encoding: str | None = None  # "multidiscrete" or "box"; None: the algorithm's default
    total_timesteps: int = 1_000_000  # patient-weeks of experience
    seed: int = 0
    device: str = "cpu"  # torch device of the networks (the environments stay on the CPU)
    n_envs: int = 8  # single-patient environments stepped together
    vec: str = "dummy"  # "dummy" (one process) or "subproc" (one process per environment)
    cohort: str = "train"
    dynamics: str = "world_model"
    assets: str | None = None  # an asset set built by `mano train ... --out` (None: shipped)
    save_every: int = 100_000  # steps between checkpoints (one is always written at the end)
    hyperparameters: dict[str, Any] = field(default_factory=dict)  # over SB3's defaults

    def __post_init__(self) -> None:
        if self.algorithm in DEFAULT_ENCODING and self.encoding is None:
            self.encoding = DEFAULT_ENCODING[self.algorithm]
        self.check()

    def check(self) -> None:
        """A `ValueError` naming the first bad setting (run again by `train_sb3`, as fields
        may have been set after construction)."""
        if self.algorithm not in SB3_ALGORITHMS:
            raise ValueError(
                f"unknown SB3 algorithm {self.algorithm!r}; choose one of "
                f"{', '.join(SB3_ALGORITHMS)}"
            )
        if self.encoding not in ENCODINGS:
            raise ValueError(
                f"unknown encoding {self.encoding!r}; choose one of {', '.join(ENCODINGS)}"
            )
        if self.algorithm == "sb3-sac" and self.encoding != "box":
            raise ValueError("sb3-sac needs a continuous action: use encoding='box'")
        if self.vec not in VEC_ENVS:
            raise ValueError(f"unknown vec {self.vec!r}; choose one of {', '.join(VEC_ENVS)}")
        check_fields(
            self,
            {name: POSITIVE_INT for name in ("total_timesteps", "n_envs", "save_every")}
            | {"seed": NON_NEGATIVE_INT, "device": DEVICE, "dynamics": one_of(*DYNAMICS)}
            | {"assets": OPTIONAL_FOLDER},
        )
        if not isinstance(self.hyperparameters, dict):
            raise ValueError(f"hyperparameters must be a dict, got {self.hyperparameters!r}")
        accepted = set(inspect.signature(SB3_ALGORITHMS[self.algorithm]).parameters)
        accepted -= set(_MANAGED)
        unknown = sorted(set(self.hyperparameters) - accepted)
        if unknown:
            raise ValueError(
                f"{self.algorithm} does not take hyperparameters {unknown} here "
                f"({', '.join(_MANAGED)} are set by the config and train_sb3); it takes "
                f"{sorted(accepted)}"
            )


def _make_patient_env(cohort: str, dynamics: str, assets: str | None, one_thread: bool) -> gym.Env:
    """One `ManoPatient-v0`; in a worker process of its own, on one torch thread (one patient's
    week is a tiny batch, and workers' threads would only contend)."""
    if one_thread:
        torch.set_num_threads(1)
    return gym.make("ManoPatient-v0", cohort=cohort, dynamics=dynamics, assets=assets)


def make_sb3_env(
    encoding: str,
    n_envs: int,
    seed: int,
    cohort: str = "train",
    dynamics: str = "world_model",
    vec: str = "dummy",
    assets: str | None = None,
) -> VecEnv:
    """`n_envs` single-patient `ManoPatient-v0`s, each in SB3's `Monitor` (episode returns
    for `rollout/ep_rew_mean`) and then the `encoding`'s flat-action wrapper, vectorised by
    SB3's `DummyVecEnv` (`vec="dummy"`) or `SubprocVecEnv` (`"subproc"`); environment i is
    seeded `seed + i` at its first reset.

    `SubprocVecEnv` starts its workers with SB3's default method (forkserver), which imports
    the main module again: a script that uses it needs the `if __name__ == "__main__":`
    guard. Each worker loads the models anew (seconds for 8 workers), so it pays off only in
    long runs with cores to spare."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    if vec not in VEC_ENVS:
        raise ValueError(f"unknown vec {vec!r}; choose one of {', '.join(VEC_ENVS)}")
    return make_vec_env(
        _make_patient_env,
        n_envs=n_envs,
        seed=seed,
        wrapper_class=WRAPPERS[encoding],
        env_kwargs={
            "cohort": cohort,
            "dynamics": dynamics,
            "assets": assets,
            "one_thread": vec == "subproc",
        },
        vec_env_cls=VEC_ENVS[vec],
    )


class ManoMetricsCallback(BaseCallback):
    """Logs the hybrid PPO's `charts/*` tags from the environments' infos (each a mean since
    SB3's previous dump), and dumps what is pending when training ends."""

    def _on_training_start(self) -> None:
        n = self.training_env.num_envs
        self._risk_drop, self._cost = np.zeros(n), np.zeros(n)
        self._risk_weight = RewardWeights().risk_weight  # the environments' (the default)

    def _on_step(self) -> bool:
        infos, dones = self.locals["infos"], self.locals["dones"]
        treatments = np.array([info["treatment"] for info in infos])
        share = np.bincount(treatments, minlength=N_TREATMENTS) / len(infos)
        for k, name in enumerate(TREATMENTS):
            self.logger.record_mean(f"charts/treatment_mix/{name}", share[k])
        self.logger.record_mean(
            "charts/mean_intensity", float(np.mean([info["intensity"] for info in infos]))
        )
        self._risk_drop += [info["risk_drop"] for info in infos]
        self._cost += [info["cost"] for info in infos]
        for i in np.flatnonzero(dones):
            info = infos[i]
            # SB3's vectorised envs mark a truncation; Mano's other ends: a cure, a drop-out
            truncated = info.get("TimeLimit.truncated", False)
            self.logger.record_mean(
                "charts/cure_rate", float(not truncated and not info["dropout"])
            )
            self.logger.record_mean("charts/dropout_rate", float(info["dropout"]))
            self.logger.record_mean("charts/risk_reduction", self._risk_drop[i] / self._risk_weight)
            self.logger.record_mean("charts/safety_cost", self._cost[i])
            if "episode" in info:  # from Monitor
                self.logger.record_mean("charts/episodic_return", info["episode"]["r"])
            self._risk_drop[i] = self._cost[i] = 0.0
        return True

    def _on_training_end(self) -> None:
        if self.logger.name_to_value:
            self.logger.dump(self.num_timesteps)


class CheckpointCallback(BaseCallback):
    """Calls `save()` at the start of a rollout once `every` steps have passed since the last
    save: after the previous update, so a checkpoint's step count is all trained on."""

    def __init__(self, save: Any, every: int) -> None:
        super().__init__()
        self.save, self.every, self.last = save, every, 0

    def _on_training_start(self) -> None:
        self.last = self.model.num_timesteps

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps - self.last >= self.every:
            self.save()
            self.last = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True


def build_model(
    config: SB3Config, env: VecEnv, tensorboard_log: str | None = None
) -> BaseAlgorithm:
    """A fresh, untrained model of `config` on `env` (from `make_sb3_env`): SB3's defaults but
    for `policy="MultiInputPolicy"` and `config.hyperparameters`."""
    config.check()
    return SB3_ALGORITHMS[config.algorithm](
        POLICY,
        env,
        seed=config.seed,
        device=config.device,
        tensorboard_log=tensorboard_log,
        verbose=0,
        **config.hyperparameters,
    )


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _training_state(model: BaseAlgorithm) -> dict[str, Any]:
    """What SB3's own zip leaves out and an exact resume needs: the observation every env is
    at, each env's episode and random stream, and the global random generators."""
    last = model._last_obs

    def tensors(values: Any) -> Any:
        if isinstance(values, dict):
            return {key: torch.from_numpy(np.array(v)) for key, v in values.items()}
        return torch.from_numpy(np.array(values))

    kind, keys, position, has_gauss, cached = np.random.get_state()
    env = model.get_env()
    return {
        "last_obs": tensors(last),
        "last_episode_starts": tensors(model._last_episode_starts),
        "envs": env.env_method("get_state"),
        # each env's `Monitor`: the rewards of the episode in progress
        "monitor_rewards": [[float(r) for r in rewards] for rewards in env.get_attr("rewards")],
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy_rng": (kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached),
        "python_rng": random.getstate(),
    }


def _restore_training_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    """Put `model` (just loaded, on fresh environments) where `_training_state` found it."""

    def arrays(values: Any) -> Any:
        if isinstance(values, dict):
            return {key: v.numpy() for key, v in values.items()}
        return values.numpy()

    env = model.get_env()
    env.reset()  # every wrapper ready to step; the episodes themselves are restored next
    states = zip(state["envs"], state["monitor_rewards"], strict=True)
    for i, (env_state, rewards) in enumerate(states):
        env.env_method("set_state", env_state, indices=[i])
        env.env_method("set_wrapper_attr", "rewards", rewards, indices=[i])
    model._last_obs = arrays(state["last_obs"])
    model._last_episode_starts = arrays(state["last_episode_starts"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"]:
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    kind, keys, position, has_gauss, cached = state["numpy_rng"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    random.setstate(state["python_rng"])


def save_checkpoint(model: BaseAlgorithm, config: SB3Config, path: Path) -> None:
    """`model` to `path` (SB3's zip, with Mano's training state inside as `mano_state.pt`),
    then its `checkpoint.json` sidecar, each written atomically (a temporary file beside it,
    then renamed). The sidecar records the zip's SHA-256, so a pair broken by a kill between
    the two renames is recognised when loading."""
    state = io.BytesIO()
    torch.save(_training_state(model), state)
    with atomic_write(path, "w+b") as file:
        model.save(file)
        with zipfile.ZipFile(file, "a") as archive:
            archive.writestr(TRAINING_STATE, state.getvalue())
    sidecar = {
        "format": FORMAT,
        "algorithm": config.algorithm,
        "encoding": config.encoding,
        "config": asdict(config),
        "stable_baselines3": stable_baselines3.__version__,
        "zip_sha256": file_sha256(path),
    }
    with atomic_write(_sidecar(path), "w") as file:
        json.dump(sidecar, file, indent=2, default=repr)


def _read_sidecar(path: Path) -> dict:
    """The checked `checkpoint.json` beside SB3 zip `path`; a `ValueError` names the file."""
    sidecar = _sidecar(path)
    try:
        saved = json.loads(sidecar.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{sidecar}: not a readable SB3 checkpoint description ({type(error).__name__}: "
            f"{error}); it is written beside {path.name} by train_sb3"
        ) from None
    if (
        not isinstance(saved, dict)
        or saved.get("format") != FORMAT
        or saved.get("algorithm") not in SB3_ALGORITHMS
        or saved.get("encoding") not in ENCODINGS
    ):
        raise ValueError(
            f"{sidecar}: not a {FORMAT!r} checkpoint description (expected format, algorithm "
            f"in {', '.join(SB3_ALGORITHMS)} and encoding in {', '.join(ENCODINGS)})"
        )
    if "zip_sha256" in saved and path.is_file() and file_sha256(path) != saved["zip_sha256"]:
        raise ValueError(
            f"{path} and {sidecar.name} were not written together (the zip's SHA-256 is not "
            "the one the description records: a save was interrupted, or a file replaced)"
        )
    return saved


# What SB3 pickles into a checkpoint's `data`, and how Mano rebuilds it without unpickling:
# taken from a fresh model of the run's config, or (training state) left for SB3 to start anew.
_REBUILT = (
    "observation_space",
    "action_space",
    "policy_class",
    "policy_kwargs",
    "lr_schedule",
    "clip_range",
    "rollout_buffer_class",
    "replay_buffer_class",
    "train_freq",
)
_STARTED_ANEW = (
    "_last_obs",
    "_last_original_obs",
    "_last_episode_starts",
    "ep_info_buffer",
    "ep_success_buffer",
)


def _rebuilt_objects(path: Path, saved: dict) -> dict[str, Any]:
    """SB3 `custom_objects` for every pickled entry of the checkpoint's `data`, rebuilt from
    the run's config (`saved`, its sidecar), so that loading unpickles nothing of the file; a
    `ValueError` names pickled entries Mano cannot rebuild."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
        config = SB3Config(**saved["config"])
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a readable SB3 checkpoint ({error})") from None
    pickled = {
        key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value
    }
    unknown = sorted(pickled - {*_REBUILT, *_STARTED_ANEW})
    if unknown:
        raise ValueError(
            f"{path} holds pickled objects Mano cannot rebuild safely ({', '.join(unknown)}); "
            "load it with trusted=True (--trusted) only if you wrote it yourself"
        )
    env = make_sb3_env(
        config.encoding, 1, config.seed, config.cohort, config.dynamics, "dummy", config.assets
    )
    fresh = build_model(config, env)
    env.close()
    rebuilt = {key: getattr(fresh, key) for key in _REBUILT if key in pickled}
    return rebuilt | {key: None for key in _STARTED_ANEW if key in pickled}


def _load_model(path: Path, saved: dict, trusted: bool = False, **kwargs: Any) -> BaseAlgorithm:
    """SB3's `load` of `path` (`saved`: its sidecar). Unless `trusted`, every pickled object in
    the file is replaced by one rebuilt from the run's config, so nothing of it is unpickled
    (SB3 reads the weights with `torch.load(weights_only=True)`). Whatever SB3 raises for a bad
    file becomes a `ValueError` naming the file."""
    if not path.is_file():
        raise ValueError(f"SB3 checkpoint not found: {path}")
    algorithm = saved["algorithm"]
    if not trusted:
        kwargs["custom_objects"] = _rebuilt_objects(path, saved)
    try:
        return SB3_ALGORITHMS[algorithm].load(path, **kwargs)
    except Exception as error:  # SB3 raises many types for a corrupt or foreign file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"{path}: not a readable {algorithm} checkpoint ({type(error).__name__}: {reason})"
        ) from None


def train_sb3(
    config: SB3Config,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    trusted: bool = False,
    overwrite: bool = False,
) -> tuple[BaseAlgorithm, dict]:
    """Train an SB3 baseline; returns the model and a summary (`global_step`, `seconds`,
    `sps` of this call, `last_returns`: mean of SB3's last 100 episode returns). With
    `run_dir`, logs to TensorBoard there and writes `checkpoint.zip` with its
    `checkpoint.json` every `save_every` steps and at the end.

    `resume=True` loads the run's `checkpoint.zip` and trains on up to `total_timesteps`
    steps in all (SB3's `reset_num_timesteps=False`), logging on in the same TensorBoard
    run. The checkpoint holds the optimiser, every env's episode in flight and the random
    generators, so PPO and A2C (dummy vectorisation) resume to the weights an unbroken run
    ends with; SAC's replay buffer (too large to checkpoint) is not kept: a resumed SAC
    collects `learning_starts` steps afresh before training again. PPO and A2C collect whole
    rollouts, so they may pass `total_timesteps`. The checkpoint is read as `load_sb3_policy`
    reads it (nothing unpickled unless `trusted`). A `run_dir` that already holds a
    checkpoint is refused unless `resume` or `overwrite`."""
    config.check()
    run_dir = Path(run_dir) if run_dir is not None else None
    checkpoint = run_dir / CHECKPOINT if run_dir is not None else None
    if checkpoint is not None and checkpoint.is_file() and not (resume or overwrite):
        raise ValueError(
            f"{run_dir} already holds an SB3 run: pass --resume to continue it or --overwrite "
            "to start it again"
        )
    if resume:
        if checkpoint is None or not checkpoint.is_file():
            raise FileNotFoundError(f"nothing to resume: no {CHECKPOINT} in {run_dir}")
        saved = _read_sidecar(checkpoint)
        if (saved["algorithm"], saved["encoding"]) != (config.algorithm, config.encoding):
            raise ValueError(
                f"{checkpoint} holds {saved['algorithm']} on the {saved['encoding']} encoding, "
                f"not {config.algorithm} on {config.encoding}"
            )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    tensorboard_log = str(run_dir) if run_dir is not None else None
    env = make_sb3_env(
        config.encoding,
        config.n_envs,
        config.seed,
        config.cohort,
        config.dynamics,
        config.vec,
        config.assets,
    )
    try:
        if resume:
            model = _load_model(
                checkpoint,
                saved,
                trusted,
                env=env,
                device=config.device,
                tensorboard_log=tensorboard_log,
            )
            with zipfile.ZipFile(checkpoint) as archive:
                state = (
                    archive.read(TRAINING_STATE) if TRAINING_STATE in archive.namelist() else None
                )
            if state is None:  # a checkpoint without the training state: seeded afresh
                model.set_random_seed(config.seed + model.num_timesteps)
            else:
                _restore_training_state(model, torch.load(io.BytesIO(state), weights_only=True))
            if isinstance(model, SAC):  # its replay buffer starts empty again
                default = inspect.signature(SAC).parameters["learning_starts"].default
                starts = config.hyperparameters.get("learning_starts", default)
                model.learning_starts = model.num_timesteps + starts
        else:
            model = build_model(config, env, tensorboard_log)
        callbacks: list[BaseCallback] = [ManoMetricsCallback()]
        if checkpoint is not None:
            callbacks.append(
                CheckpointCallback(
                    lambda: save_checkpoint(model, config, checkpoint), config.save_every
                )
            )
        steps_at_start = model.num_timesteps
        started = time.perf_counter()
        remaining = config.total_timesteps - model.num_timesteps
        if remaining > 0:
            with warnings.catch_warnings():
                # SB3's progress bar is tqdm's rich one, which tqdm flags as experimental
                warnings.simplefilter("ignore", TqdmExperimentalWarning)
                model.learn(
                    remaining,
                    callback=CallbackList(callbacks),
                    reset_num_timesteps=not resume,
                    progress_bar=progress,
                )
        seconds = time.perf_counter() - started
        if checkpoint is not None:
            save_checkpoint(model, config, checkpoint)
    finally:
        env.close()
    returns = [episode["r"] for episode in model.ep_info_buffer or []]
    summary = {
        "global_step": int(model.num_timesteps),
        "seconds": seconds,
        "sps": (model.num_timesteps - steps_at_start) / seconds if seconds > 0 else 0.0,
        "last_returns": float(np.mean(returns)) if returns else float("nan"),
    }
    return model, summary


class SB3Policy:
    """A trained SB3 model as a policy over batched NumPy observations (the
    `mano_gym.envs.rollouts.Policy` protocol): `model.predict` on the whole batch, greedy by
    default, then the flat actions decoded by `mano_gym.wrappers.decode_box` or
    `decode_multidiscrete` (the wrappers' own mapping)."""

    def __init__(self, model: BaseAlgorithm, encoding: str, deterministic: bool = True) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
        space = model.action_space
        if encoding == "box":
            expected = spaces.Box(-1.0, 1.0, (N_TREATMENTS + 1,), np.float32)
            matches = space == expected
        else:
            matches = isinstance(space, spaces.MultiDiscrete) and (
                space.nvec.shape == (2,) and space.nvec[0] == N_TREATMENTS
            )
            expected = f"MultiDiscrete([{N_TREATMENTS}, bins])"
        if not matches:
            raise ValueError(
                f"the model's action space {space} is not the {encoding} encoding's {expected}"
            )
        self.model, self.encoding, self.deterministic = model, encoding, deterministic
        self.intensity_bins = int(space.nvec[1]) if encoding == "multidiscrete" else None

    def reset(self, n: int) -> None:
        """Nothing to remember between weeks: SB3's policies here have no recurrent state."""

    def act(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        batch = {key: np.asarray(obs[key]) for key in self.model.observation_space.spaces}
        if not self.deterministic:  # SB3 samples from torch's global generator
            torch.manual_seed(int(rng.integers(2**62)))
        actions, _ = self.model.predict(batch, deterministic=self.deterministic)
        if self.encoding == "box":
            return decode_box(actions)
        return decode_multidiscrete(actions, self.intensity_bins)


def load_sb3_policy(path: str | Path, device: str = "cpu", trusted: bool = False) -> SB3Policy:
    """The greedy policy of an SB3 run: `path` is its run directory or a `.zip` in it.
    The algorithm and encoding come from `checkpoint.json` beside the zip; a missing or
    garbled zip or sidecar raises a `ValueError` naming the file.

    SB3's zip holds pickled Python objects (the policy class, schedules, spaces), and
    unpickling runs them. So unless `trusted`, none is unpickled: each is rebuilt from the
    run's config in the sidecar, and the weights are read with `weights_only=True`."""
    path = Path(path)
    checkpoint = path if path.suffix == ".zip" and not path.is_dir() else path / CHECKPOINT
    if not checkpoint.is_file():
        raise ValueError(f"SB3 checkpoint not found: {checkpoint}")
    saved = _read_sidecar(checkpoint)
    model = _load_model(checkpoint, saved, trusted, device=device)
    return SB3Policy(model, saved["encoding"])
