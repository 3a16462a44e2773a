"""TimeGAN (Yoon, Jarrett & van der Schaar, NeurIPS 2019) for 7-day windows of the daily signals.

TimeGAN trains a GAN in the latent space of an autoencoder, so that the generator learns the
step-to-step dynamics of real sequences as well as their marginals. Five recurrent networks
(`hidden_dim` units, `num_layers` layers each) work on per-signal min-max scaled data in [0, 1]:

| network       | maps                               | output                    |
|---------------|------------------------------------|---------------------------|
| embedder      | features -> latent                 | sigmoid                   |
| recovery      | latent -> features                 | sigmoid                   |
| generator     | uniform noise -> latent            | sigmoid                   |
| supervisor    | latent -> next step's latent       | sigmoid; one layer less   |
| discriminator | latent -> real/fake logit per step | linear                    |

Training runs in three phases, with the losses of the authors' reference code
(github.com/jsyoon0823/TimeGAN):

1. embedding: embedder + recovery on the reconstruction loss `10 * sqrt(MSE(x, R(E(x))))`;
2. supervised: supervisor on the one-step-ahead loss `MSE(H[:, 1:], S(H)[:, :-1])`, `H = E(x)`;
3. joint, per iteration: twice, (a) generator + supervisor on
   `BCE(D(S(G(z)))) + gamma * BCE(D(G(z))) + 100 * sqrt(supervised) + 100 * moments`, where
   moments is the gap in per-step, per-signal std and mean between `R(S(G(z)))` and `x`, then
   (b) embedder + recovery on `10 * sqrt(reconstruction) + 0.1 * supervised`; then the
   discriminator on real, supervised-fake and (weighted by gamma) unsupervised-fake latents,
   updated only while its loss exceeds `discriminator_threshold` (0.15).

The trained weights are the average of the joint phase's weights every `average_every`
iterations over its last `average_last` (stochastic weight averaging, Izmailov et al., UAI 2018;
not in the reference code).

Public API::

    model = TimeGAN(TimeGANConfig()).fit(windows)   # (N, days, 5) in real units
    synthetic = model.sample(1000, seed=0)          # (1000, days, 5), real units, on support
    model.save("timegan.pt"); model = TimeGAN.load("timegan.pt")

`fit(windows, checkpoint=path)` writes the whole training state (weights, optimisers, RNG,
position) to `path` atomically every `checkpoint_every` iterations and at the end of each
phase; `fit(windows, checkpoint=path, resume=True)` continues a killed run from it and ends
with the same weights as an uninterrupted run.

With `dp_epsilon` set, training is differentially private with the participant as the unit
(`generators.participant_dp`): `fit(windows, participants=people)` routes every update that
reads real windows (the three phases' embedder, supervisor, generator and discriminator steps)
through per-person clipped, noised DP-SGD, scales by the signals' published ranges, always
updates the discriminator, logs nothing, and records its guarantee in `model.privacy`.

`fit` logs TensorBoard scalars under `logdir` when given: `losses/embedding` (reconstruction
RMSE, scaled units), `losses/supervised` (one-step-ahead RMSE in latent space, phases 2-3),
`losses/generator` (adversarial part of the generator loss), `losses/discriminator`,
`losses/moments` and `losses/embedding_joint` (reconstruction RMSE during phase 3).

On a CPU these small recurrent networks are bound by per-step overhead, not arithmetic: extra
threads do not help, and on a busy machine they spin-wait on each other (measured up to 40x
slower per step). Nothing global is set here; a caller training on a shared CPU may want
`torch.set_num_threads(1)` around `fit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from generators.config_checks import (
    DEVICE,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    OPTIONAL_POSITIVE,
    POSITIVE,
    POSITIVE_FRACTION,
    check_fields,
)
from generators.files import atomic_write, read_torch_checkpoint
from generators.participant_dp import (
    ACCOUNTANT,
    ParticipantDPSGD,
    noise_multiplier,
    privacy_spent,
)
from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, to_support

FORMAT = "mano-timegan-1"
CHECKPOINT_FORMAT = "mano-timegan-checkpoint-1"
_CHECKPOINT_KEYS = (
    "config",
    "data_sha256",
    "phase",
    "iteration",
    "step",
    "state_dict",
    "optimizers",
    "rng",
    "weight_sums",
    "averaged",
)
NETWORKS = ("embedder", "recovery", "generator", "supervisor", "discriminator")
_SCALE_EPS = 1e-7  # keeps a constant signal from dividing by zero, as in the reference code
_SAMPLE_CHUNK = 4096  # sequences per forward pass in `sample`, bounds memory for large n


@dataclass
class TimeGANConfig:
    """TimeGAN hyperparameters. The defaults (tuned on the 339 PMData training windows, where
    the reference's 24 x 3 reconstructed worse and scored lower) fit in ~10 min on a 2-core CPU."""

    hidden_dim: int = 48  # latent and recurrent width of every network (reference: 24)
    num_layers: int = 2  # recurrent layers in each network, supervisor one less (reference: 3)
    batch_size: int = 64  # windows per step (all of them when fewer)
    embedding_iterations: int = 5000  # phase 1: embedder + recovery, reconstruction loss
    supervised_iterations: int = 3000  # phase 2: supervisor, one-step-ahead latent loss
    joint_iterations: int = 8000  # phase 3: generator/supervisor vs discriminator + embedder
    learning_rate: float = 1e-3  # Adam, every network and phase
    gamma: float = 1.0  # weight of the adversarial loss on unsupervised latents G(z) (ref. code)
    moment_weight: float = 100.0  # weight of the moments (mean/std) loss, as in the ref. code
    seed: int = 0  # weight init, batch order and training noise
    device: str = "cpu"  # torch device for training and sampling, e.g. "cuda"
    # Recurrent cell of every network, "gru" or "lstm". On the shipped split LSTM scored 0.91
    # on the distribution score where GRU scored 0.89, with 53% against 56% of weeks nearer
    # training; it also trains faster here (410 s against 530 s).
    cell: str = "lstm"
    supervised_weight: float = 100.0  # weight of sqrt(supervised loss) in the generator loss
    reconstruction_weight: float = 10.0  # weight of sqrt(reconstruction MSE), phases 1 and 3
    embedding_supervised_weight: float = 0.1  # supervised loss in the phase-3 embedder update
    generator_steps: int = 2  # generator + embedder updates per discriminator step (ref. code)
    # Update the discriminator only above this loss. The reference's 0.15 never binds here (the
    # three-term loss is ~2.1 at chance) and the discriminator runs away; 1.0 keeps it in
    # check: on the shipped split it lowered the discriminative score from 0.26 to 0.13.
    discriminator_threshold: float = 1.0
    log_every: int = 10  # iterations between TensorBoard scalars and progress-bar updates
    # Keep the average of the weights taken every `average_every` joint iterations over the last
    # `average_last` (0: the last weights). The adversarial game never settles, so the weights
    # of any one iteration swing from one snapshot to the next (held-out people discriminative
    # score 0.32-0.41 every 500 iterations); on the shipped split averaging the last 2000
    # brought it to 0.28 (training seeds 0 and 1; last weights: 0.33-0.34) at no time cost.
    average_last: int = 2000
    average_every: int = 500
    # Differential privacy (`generators.participant_dp`): with `dp_epsilon`, every update that
    # reads real windows is a DP-SGD step with the participant as the unit, and the whole run
    # spends at most (dp_epsilon, dp_delta). None trains without.
    dp_epsilon: float | None = None
    dp_delta: float = 1e-5  # judgement: far below 1 / the number of people
    dp_max_grad_norm: float = 1.0  # clipping norm of one participant's gradient
    dp_sample_rate: float = 0.3  # chance that a participant takes part in an update

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type == "int" and field.name not in ("seed", "average_last") and value < 1:
                raise ValueError(f"TimeGANConfig.{field.name} must be >= 1, got {value}")
        if self.num_layers < 2:
            raise ValueError(f"TimeGANConfig.num_layers must be >= 2, got {self.num_layers}")
        if self.average_last < 0:
            raise ValueError(f"TimeGANConfig.average_last must be >= 0, got {self.average_last}")
        if self.cell not in ("gru", "lstm"):
            raise ValueError(f"TimeGANConfig.cell must be 'gru' or 'lstm', got {self.cell!r}")
        weights = ("gamma", "moment_weight", "supervised_weight", "reconstruction_weight")
        check_fields(
            self,
            {"learning_rate": POSITIVE, "seed": NON_NEGATIVE_INT, "device": DEVICE}
            | {name: NON_NEGATIVE for name in (*weights, "embedding_supervised_weight")}
            | {"discriminator_threshold": NON_NEGATIVE}
            | {"dp_delta": OPEN_FRACTION, "dp_max_grad_norm": POSITIVE}
            | {"dp_sample_rate": POSITIVE_FRACTION, "dp_epsilon": OPTIONAL_POSITIVE},
        )

    @property
    def private(self) -> bool:
        return self.dp_epsilon is not None

    def private_updates(self) -> int:
        """Updates that read real windows: each counts against a privacy budget."""
        joint = self.joint_iterations * (2 * self.generator_steps + 1)
        return self.embedding_iterations + self.supervised_iterations + joint


class _Recurrent(nn.Module):
    """A stacked GRU/LSTM followed by a per-step linear layer (and sigmoid, unless logits)."""

    def __init__(
        self, cell: str, inputs: int, hidden: int, layers: int, outputs: int, sigmoid: bool
    ) -> None:
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(inputs, hidden, num_layers=layers, batch_first=True)
        self.linear = nn.Linear(hidden, outputs)
        self.sigmoid = sigmoid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(self.rnn(x)[0])
        return torch.sigmoid(out) if self.sigmoid else out


def _build_networks(config: TimeGANConfig) -> nn.ModuleDict:
    """The five networks, initialised from `config.seed` without touching torch's global RNG."""
    h, layers, cell = config.hidden_dim, config.num_layers, config.cell
    # Init on the CPU generator only (devices=[]), so CPU and CUDA models start identical.
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(config.seed)
        nets = nn.ModuleDict(
            {
                "embedder": _Recurrent(cell, N_SIGNALS, h, layers, h, sigmoid=True),
                "recovery": _Recurrent(cell, h, h, layers, N_SIGNALS, sigmoid=True),
                "generator": _Recurrent(cell, N_SIGNALS, h, layers, h, sigmoid=True),
                "supervisor": _Recurrent(cell, h, h, layers - 1, h, sigmoid=True),
                "discriminator": _Recurrent(cell, h, h, layers, 1, sigmoid=False),
            }
        )
    return nets.to(config.device)


def _check_windows(windows: np.ndarray) -> np.ndarray:
    data = np.asarray(windows, dtype=np.float32)
    if data.ndim != 3 or data.shape[2] != N_SIGNALS:
        raise ValueError(
            f"expected windows of shape (N, days, {N_SIGNALS}) with signals "
            f"{', '.join(SIGNAL_NAMES)}, got shape {data.shape}"
        )
    if data.shape[0] < 1 or data.shape[1] < 2:
        raise ValueError(f"need at least 1 window of at least 2 days, got shape {data.shape}")
    if not np.isfinite(data).all():
        bad = sorted({SIGNAL_NAMES[j] for j in np.argwhere(~np.isfinite(data))[:, 2]})
        raise ValueError(f"windows contain NaN or infinite values (signals: {', '.join(bad)})")
    return data


def _only_train(nets: nn.ModuleDict, names: Iterable[str]) -> None:
    """Let gradients reach only the named networks, so no step pays for the others' grads."""
    names = set(names)
    for name, net in nets.items():
        net.requires_grad_(name in names)


def _supervised_loss(h: torch.Tensor, h_next: torch.Tensor) -> torch.Tensor:
    """MSE between the latent at t+1 and the supervisor's prediction made at t."""
    return F.mse_loss(h_next[:, :-1], h[:, 1:])


def _moments_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean |std gap| + mean |mean gap|, per step and signal over the batch (reference code)."""
    fake_std = torch.sqrt(fake.var(0, correction=0) + 1e-6)
    real_std = torch.sqrt(real.var(0, correction=0) + 1e-6)
    return (fake_std - real_std).abs().mean() + (fake.mean(0) - real.mean(0)).abs().mean()


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class TimeGAN:
    """TimeGAN over `(N, days, 5)` windows of the daily signals; see the module docstring."""

    def __init__(self, config: TimeGANConfig | None = None) -> None:
        self.config = config if config is not None else TimeGANConfig()
        self.days: int | None = None
        self.scaler_min: torch.Tensor | None = None
        self.scaler_max: torch.Tensor | None = None
        self._nets: nn.ModuleDict | None = None
        # the guarantee of a private model (`TimeGANConfig.dp_epsilon`), None for the others
        self.privacy: dict | None = None

    # ---------------------------------------------------------------- training

    def fit(
        self,
        windows: np.ndarray,
        logdir: str | Path | None = None,
        progress: bool = True,
        checkpoint: str | Path | None = None,
        resume: bool = False,
        checkpoint_every: int = 500,
        participants: np.ndarray | None = None,
    ) -> TimeGAN:
        """Train on `windows` (N, days, 5) in real units, in `SIGNAL_NAMES` order.

        Weights, batch order and noise all follow `config.seed`; torch's global RNG is left as
        it was. With `checkpoint`, the training state is saved there every `checkpoint_every`
        iterations and at the end of each phase; `resume=True` continues from that file, which
        must come from the same windows and config (the device may differ). A private config
        (`dp_epsilon`) needs `participants`, the person each window belongs to (the privacy
        unit), and scales by the signals' published ranges instead of the data's. Returns self.
        """
        data = _check_windows(windows)
        if resume and checkpoint is None:
            raise ValueError("resume=True needs the checkpoint to resume from")
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        cfg = self.config
        if cfg.private and participants is None:
            raise ValueError(
                "a private TimeGAN (dp_epsilon) needs the participant of every window: "
                "the person is the privacy unit"
            )
        self.days = data.shape[1]
        # The data's own minimum and maximum would leak: a private run scales by public ranges.
        low, high = (
            (SIGNAL_LOW, SIGNAL_HIGH) if cfg.private else (data.min((0, 1)), data.max((0, 1)))
        )
        self.scaler_min, self.scaler_max = torch.from_numpy(low), torch.from_numpy(high)
        scaled = (data - self.scaler_min.numpy()) / (
            self.scaler_max.numpy() - self.scaler_min.numpy() + _SCALE_EPS
        )
        self._nets = _build_networks(cfg)
        trainer = _Trainer(self._nets, torch.from_numpy(scaled).to(cfg.device), cfg, logdir)
        if cfg.private:
            self.privacy = trainer.make_private(participants)
        if checkpoint is not None:
            trainer.checkpoint = _Checkpoint(
                Path(checkpoint), hashlib.sha256(data.tobytes()).hexdigest(), checkpoint_every
            )
            if resume:
                trainer.restore()
        try:
            trainer.run(progress)
        finally:
            trainer.close()
        _only_train(self._nets, ())
        return self

    # ---------------------------------------------------------------- sampling

    def sample(self, n: int, seed: int) -> np.ndarray:
        """`n` synthetic windows `(n, days, 5)`, float32 in real units, on each signal's support.

        The noise comes from a private generator seeded with `seed`: the same seed gives the
        same windows, and torch's global RNG is neither used nor changed.
        """
        if self._nets is None:
            raise RuntimeError("TimeGAN has no trained networks: call fit() or TimeGAN.load()")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        noise = torch.rand(n, self.days, N_SIGNALS, generator=torch.Generator().manual_seed(seed))
        nets = self._nets
        chunks = []
        with torch.inference_mode():
            for z in noise.split(_SAMPLE_CHUNK):
                latent = nets["supervisor"](nets["generator"](z.to(self.config.device)))
                chunks.append(nets["recovery"](latent).cpu())
        scaled = torch.cat(chunks).numpy()  # split() yields one empty chunk when n == 0
        span = (self.scaler_max - self.scaler_min).numpy() + _SCALE_EPS
        return to_support(scaled * span + self.scaler_min.numpy())

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> None:
        """Write the model to one file, atomically (a temp file in the same folder, renamed)."""
        if self._nets is None:
            raise RuntimeError("TimeGAN has no trained networks to save: call fit() first")
        path = Path(path)
        payload = {
            "format": FORMAT,
            "config": asdict(self.config),
            "scaler_min": self.scaler_min.cpu(),
            "scaler_max": self.scaler_max.cpu(),
            "days": self.days,
            "privacy": self.privacy,
            "state_dicts": {
                name: {k: v.cpu() for k, v in net.state_dict().items()}
                for name, net in self._nets.items()
            },
        }
        with atomic_write(path) as file:
            torch.save(payload, file)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TimeGAN:
        """Read a model written by `save`, onto `device`.

        A missing file raises `FileNotFoundError`; an unreadable file, another format or a
        malformed payload raises `ValueError` naming the file and the problem.
        """
        keys = ("config", "scaler_min", "scaler_max", "days", "state_dicts")
        payload = read_torch_checkpoint(path, FORMAT, "TimeGAN model", keys, map_location=device)
        try:
            model = cls(TimeGANConfig(**{**payload["config"], "device": device}))
            model.days = int(payload["days"])
            model.privacy = payload.get("privacy")
            model.scaler_min = payload["scaler_min"].cpu().reshape(N_SIGNALS)
            model.scaler_max = payload["scaler_max"].cpu().reshape(N_SIGNALS)
            missing = [name for name in NETWORKS if name not in payload["state_dicts"]]
            if missing:
                raise ValueError(f"no weights for {', '.join(missing)}")
            model._nets = _build_networks(model.config)
            for name, net in model._nets.items():
                net.load_state_dict(payload["state_dicts"][name])
        except (AttributeError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{path}: malformed TimeGAN model file ({error})") from None
        _only_train(model._nets, ())
        return model


@dataclass
class _Checkpoint:
    """Where and how often `_Trainer` saves its state, and the data it must resume on."""

    path: Path
    data_sha256: str
    every: int


def _resumable_config(config: dict) -> dict:
    return {key: value for key, value in config.items() if key != "device"}


class _Trainer:
    """The three training phases over scaled data already on the device."""

    def __init__(
        self, nets: nn.ModuleDict, data: torch.Tensor, cfg: TimeGANConfig, logdir: str | Path | None
    ) -> None:
        self.nets, self.data, self.cfg = nets, data, cfg
        self.batch = min(cfg.batch_size, len(data))
        self.rng = torch.Generator().manual_seed(cfg.seed)  # batch order and training noise
        self.step = 0  # global step across phases, for TensorBoard
        self.weight_sums: dict[str, torch.Tensor] = {}  # joint-phase weights, see `_average`
        self.averaged = 0  # number of weight sets in `weight_sums`
        # the next iteration to run: `iteration` of phase `phase` (0 embedding ... 2 joint)
        self.phase = self.iteration = 0
        self.checkpoint: _Checkpoint | None = None
        self.optimizer_states: dict[str, dict] = {}  # of the phase being resumed
        self.private: ParticipantDPSGD | None = None  # see `make_private`
        self.writer = None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only if used

            self.writer = SummaryWriter(str(logdir))

    def make_private(self, participants: np.ndarray) -> dict:
        """Route every update that reads real windows through participant-level DP-SGD
        (`generators.participant_dp`), with the noise that spends the config's budget over the
        whole run. Returns the guarantee, as the model and its manifest record it."""
        cfg = self.cfg
        steps, rate = cfg.private_updates(), cfg.dp_sample_rate
        sigma = noise_multiplier(cfg.dp_epsilon, cfg.dp_delta, rate, steps)
        noise = torch.Generator(self.data.device).manual_seed(cfg.seed + 1)
        self.private = ParticipantDPSGD(
            self.data, participants, rate, cfg.dp_max_grad_norm, sigma, cfg.batch_size,
            self.rng, noise,
        )  # fmt: skip
        return {
            "epsilon": privacy_spent(sigma, rate, steps, cfg.dp_delta),
            "delta": cfg.dp_delta,
            "unit": "participant",
            "participants": len(self.private.groups),
            "accountant": f"opacus {ACCOUNTANT}",
            "noise_multiplier": sigma,
            "sample_rate": rate,
            "max_grad_norm": cfg.dp_max_grad_norm,
            "updates": steps,
        }

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def run(self, progress: bool) -> None:
        cfg = self.cfg
        phases = (
            ("embedding", cfg.embedding_iterations, self._embedding_step),
            ("supervised", cfg.supervised_iterations, self._supervised_step),
            ("joint", cfg.joint_iterations, self._joint_step),
        )
        for phase, (name, iterations, step) in enumerate(phases):
            if phase < self.phase:
                continue  # done before the checkpoint this run resumed from
            optimizers = self._optimizers(name)
            for key, state in self.optimizer_states.items():
                optimizers[key].load_state_dict(state)
            self.optimizer_states = {}
            first = self.iteration
            bar = tqdm(
                range(first, iterations),
                desc=f"TimeGAN {name}",
                initial=first,
                total=iterations,
                disable=not progress,
            )
            for i in bar:
                losses = step(optimizers)
                if name == "joint":
                    self._average(remaining=iterations - 1 - i)
                if i % cfg.log_every == 0 or i == iterations - 1:
                    values = {key: value.item() for key, value in losses.items()}
                    bar.set_postfix({key.split("/")[1]: f"{v:.4f}" for key, v in values.items()})
                    if self.writer is not None:
                        for key, value in values.items():
                            self.writer.add_scalar(key, value, self.step)
                self.step += 1
                self.iteration = i + 1
                if self.checkpoint is not None and (
                    self.iteration % self.checkpoint.every == 0 or self.iteration == iterations
                ):
                    self._save(optimizers)
            self.phase, self.iteration = phase + 1, 0
        self.nets.load_state_dict({k: v / self.averaged for k, v in self.weight_sums.items()})

    def _save(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        """Write the state after the iteration just run, atomically."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(self.cfg),
            "data_sha256": self.checkpoint.data_sha256,
            "phase": self.phase,
            "iteration": self.iteration,
            "step": self.step,
            "state_dict": self.nets.state_dict(),
            "optimizers": {key: opt.state_dict() for key, opt in optimizers.items()},
            "rng": self.rng.get_state(),
            "weight_sums": self.weight_sums,
            "averaged": self.averaged,
        }
        if self.private is not None:
            payload["dp_noise_rng"] = self.private.noise.get_state()
        with atomic_write(self.checkpoint.path) as file:
            torch.save(payload, file)

    def restore(self) -> None:
        """Continue from `self.checkpoint`; `ValueError` if it was written for other windows or
        another config, or is not a TimeGAN checkpoint."""
        path = self.checkpoint.path
        saved = read_torch_checkpoint(
            path, CHECKPOINT_FORMAT, "TimeGAN checkpoint", _CHECKPOINT_KEYS, self.cfg.device
        )
        if saved["data_sha256"] != self.checkpoint.data_sha256:
            raise ValueError(f"{path}: checkpoint of training on other windows; cannot resume")
        ours, theirs = _resumable_config(asdict(self.cfg)), _resumable_config(saved["config"])
        if ours != theirs:
            changed = sorted(key for key in ours if ours[key] != theirs.get(key))
            raise ValueError(
                f"{path}: checkpoint of another TimeGAN config ({', '.join(changed)} differ); "
                "cannot resume"
            )
        if self.private is not None and "dp_noise_rng" not in saved:
            raise ValueError(f"{path}: checkpoint of a run without privacy; cannot resume")
        try:
            self.nets.load_state_dict(saved["state_dict"])
            self.rng.set_state(saved["rng"].cpu())
            if self.private is not None:
                self.private.noise.set_state(saved["dp_noise_rng"])
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"{path}: malformed TimeGAN checkpoint ({error})") from None
        self.phase, self.iteration, self.step = saved["phase"], saved["iteration"], saved["step"]
        self.optimizer_states = saved["optimizers"]
        self.weight_sums, self.averaged = saved["weight_sums"], saved["averaged"]

    def _average(self, remaining: int) -> None:
        """Add the weights to the running sum when `remaining` joint iterations are left and
        that count is within `average_last` and a multiple of `average_every`."""
        cfg = self.cfg
        if remaining > cfg.average_last or remaining % cfg.average_every:
            return
        for key, value in self.nets.state_dict().items():
            total = self.weight_sums.get(key)
            self.weight_sums[key] = value.clone() if total is None else total + value
        self.averaged += 1

    def _optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        """Fresh Adam optimizers per phase, as the reference code has one solver per loss."""
        groups = {
            "embedding": {"autoencoder": ("embedder", "recovery")},
            "supervised": {"supervisor": ("supervisor",)},
            "joint": {
                "generator": ("generator", "supervisor"),
                "autoencoder": ("embedder", "recovery"),
                "discriminator": ("discriminator",),
            },
        }[phase]
        optimizers = {
            key: torch.optim.Adam(
                [p for name in names for p in self.nets[name].parameters()],
                lr=self.cfg.learning_rate,
            )
            for key, names in groups.items()
        }
        if self.private is not None:
            return {key: self.private.wrap(opt) for key, opt in optimizers.items()}
        return optimizers

    def _real(self) -> torch.Tensor:
        idx = torch.randperm(len(self.data), generator=self.rng)[: self.batch]
        return self.data[idx.to(self.data.device)]

    def _noise(self) -> torch.Tensor:
        shape = (self.batch, self.data.shape[1], N_SIGNALS)
        return torch.rand(shape, generator=self.rng).to(self.data.device)

    def _reconstruction(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents of real `x` and the autoencoder's reconstruction MSE."""
        h = self.nets["embedder"](x)
        return h, F.mse_loss(self.nets["recovery"](h), x)

    @staticmethod
    def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def _embedding_step(self, opt: dict) -> dict[str, torch.Tensor]:
        _only_train(self.nets, ("embedder", "recovery"))
        if self.private is not None:
            self.private.update(opt["autoencoder"], lambda x: self._reconstruction_loss(x)[0])
            return {}
        loss, mse = self._reconstruction_loss(self._real())
        self._update(opt["autoencoder"], loss)
        return {"losses/embedding": torch.sqrt(mse.detach())}

    def _supervised_step(self, opt: dict) -> dict[str, torch.Tensor]:
        _only_train(self.nets, ("supervisor",))
        if self.private is not None:
            self.private.update(opt["supervisor"], self._latent_supervised_loss)
            return {}
        loss = self._latent_supervised_loss(self._real())
        self._update(opt["supervisor"], loss)
        return {"losses/supervised": torch.sqrt(loss.detach())}

    def _joint_step(self, opt: dict) -> dict[str, torch.Tensor]:
        if self.private is not None:
            return self._private_joint_step(opt)
        nets, cfg = self.nets, self.cfg
        for _ in range(cfg.generator_steps):
            x, z = self._real(), self._noise()
            # (a) generator + supervisor: fool the discriminator, predict the next latent,
            # match the batch moments of the real windows
            _only_train(nets, ("generator", "supervisor"))
            generator = self._generator_loss(x, z)
            self._update(opt["generator"], generator["loss"])
            # (b) embedder + recovery on the same batch: keep reconstructing, and keep the
            # latent space predictable for the supervisor.
            _only_train(nets, ("embedder", "recovery"))
            embedding_loss, mse = self._joint_embedding_loss(x)
            self._update(opt["autoencoder"], embedding_loss)
        # Discriminator, on a fresh batch; skipped while it already wins (loss <= threshold)
        # so that the generator can catch up.
        _only_train(nets, ("discriminator",))
        discriminator_loss = self._discriminator_loss(self._real(), self._noise())
        if discriminator_loss.item() > cfg.discriminator_threshold:
            self._update(opt["discriminator"], discriminator_loss)
        return {
            "losses/generator": generator["adversarial"].detach(),
            "losses/supervised": torch.sqrt(generator["supervised"].detach()),
            "losses/moments": generator["moments"].detach(),
            "losses/embedding_joint": torch.sqrt(mse.detach()),
            "losses/discriminator": discriminator_loss.detach(),
        }

    def _private_joint_step(self, opt: dict) -> dict[str, torch.Tensor]:
        """The joint iteration's updates as private ones: each samples its own participants,
        the fakes of one noise batch shared by them. The discriminator always updates: its
        threshold would be a decision on real data. Nothing is logged."""
        nets, private = self.nets, self.private
        for _ in range(self.cfg.generator_steps):
            z = self._noise()
            _only_train(nets, ("generator", "supervisor"))
            private.update(opt["generator"], lambda x, z=z: self._generator_loss(x, z)["loss"])
            _only_train(nets, ("embedder", "recovery"))
            private.update(opt["autoencoder"], lambda x: self._joint_embedding_loss(x)[0])
        _only_train(nets, ("discriminator",))
        z = self._noise()
        private.update(opt["discriminator"], lambda x: self._discriminator_loss(x, z))
        return {}

    # The losses, as functions of real windows `x` (and noise `z`), for plain and private
    # updates alike.

    def _reconstruction_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Phase 1: the weighted root reconstruction error, and the MSE."""
        _, mse = self._reconstruction(x)
        return self.cfg.reconstruction_weight * torch.sqrt(mse), mse

    def _latent_supervised_loss(self, x: torch.Tensor) -> torch.Tensor:
        """Phase 2: the supervisor's one-step-ahead error on the latents of `x`."""
        h = self.nets["embedder"](x)
        return _supervised_loss(h, self.nets["supervisor"](h))

    def _generator_loss(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Phase 3 (a): the generator + supervisor loss (`loss`) and its parts. A recurrent
        network treats the sequences of a batch independently, so two inputs to the same
        network share one pass (per-step overhead, not batch size, dominates on a CPU)."""
        nets, cfg = self.nets, self.cfg
        h = nets["embedder"](x)
        e_hat = nets["generator"](z)
        h_next, h_hat = nets["supervisor"](torch.cat([h, e_hat])).split([len(x), len(z)])
        supervised = _supervised_loss(h, h_next)
        moments = _moments_loss(nets["recovery"](h_hat), x)
        y_fake, y_fake_e = nets["discriminator"](torch.cat([h_hat, e_hat])).split(len(z))
        adversarial = _bce(y_fake, 1.0) + cfg.gamma * _bce(y_fake_e, 1.0)
        loss = adversarial + cfg.supervised_weight * torch.sqrt(supervised)
        loss = loss + cfg.moment_weight * moments
        return {
            "loss": loss,
            "adversarial": adversarial,
            "supervised": supervised,
            "moments": moments,
        }

    def _joint_embedding_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Phase 3 (b): reconstruction plus a little of the supervised loss, and the MSE."""
        cfg = self.cfg
        h, mse = self._reconstruction(x)
        supervised = _supervised_loss(h, self.nets["supervisor"](h))
        loss = cfg.reconstruction_weight * torch.sqrt(mse)
        return loss + cfg.embedding_supervised_weight * supervised, mse

    def _discriminator_loss(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Phase 3: the discriminator on real, supervised-fake and unsupervised-fake latents."""
        nets, cfg = self.nets, self.cfg
        with torch.no_grad():
            h = nets["embedder"](x)
            e_hat = nets["generator"](z)
            h_hat = nets["supervisor"](e_hat)
        logits = nets["discriminator"](torch.cat([h, h_hat, e_hat]))
        y_real, y_fake, y_fake_e = logits.split([len(x), len(z), len(z)])
        return _bce(y_real, 1.0) + _bce(y_fake, 0.0) + cfg.gamma * _bce(y_fake_e, 0.0)
