"""Static patient profiles from CTGAN (the `ctgan` package, used as it is).

`ProfileGenerator` is a thin layer over `ctgan.CTGAN` that adds what Mano needs: a config
dataclass, seeded `sample`, conditional sampling checked against the categories seen in
training, integer ages inside the training range, TensorBoard loss curves, and saving that
refuses to load an unverified pickle.

CTGAN saves itself by pickling, and unpickling runs code: `load` reads a file only when its
SHA-256 equals the one the caller expects (the manifest's, for the shipped artifact) or when
the caller declares the file trusted.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from generators.config_checks import (
    DEVICE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    POSITIVE_INTS,
    check_fields,
)
from generators.files import atomic_write, file_sha256

_MAX_REJECTION_DRAWS = 100  # per requested row, before conditional sampling gives up


@dataclass
class ProfileGeneratorConfig:
    """CTGAN's hyperparameters; the defaults were chosen by measurement on the OSMI survey
    (about 1,200 rows: CTGAN's default batch of 500 gives only 2 steps an epoch)."""

    epochs: int = 300
    batch_size: int = 50  # a multiple of 2 * pac (CTGAN packs `pac` rows per critic input)
    pac: int = 5
    embedding_dim: int = 128
    generator_dim: tuple[int, ...] = (128, 128)
    discriminator_dim: tuple[int, ...] = (128, 128)
    learning_rate: float = 2e-4
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "epochs": POSITIVE_INT,
                "batch_size": POSITIVE_INT,
                "pac": POSITIVE_INT,
                "embedding_dim": POSITIVE_INT,
                "generator_dim": POSITIVE_INTS,
                "discriminator_dim": POSITIVE_INTS,
                "learning_rate": POSITIVE,
                "seed": NON_NEGATIVE_INT,
                "device": DEVICE,
            },
        )
        if self.batch_size % (2 * self.pac):
            raise ValueError(
                f"ProfileGeneratorConfig.batch_size ({self.batch_size}) must be a multiple of "
                f"2 * pac ({2 * self.pac})"
            )


class ProfileGenerator:
    """CTGAN over a table of profiles: `fit`, `sample`, `save`, `load`."""

    def __init__(self, config: ProfileGeneratorConfig | None = None) -> None:
        self.config = config or ProfileGeneratorConfig()
        self._model = None
        self._columns: list[str] = []
        self._categories: dict[str, list[str]] = {}
        self._integer_ranges: dict[str, tuple[int, int]] = {}

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def categories(self) -> dict[str, list[str]]:
        """The categories of each discrete column, as seen in training."""
        return {column: list(values) for column, values in self._categories.items()}

    def fit(
        self, profiles: pd.DataFrame, logdir: str | Path | None = None, progress: bool = True
    ) -> ProfileGenerator:
        """Train on `profiles` (object columns are discrete, integer columns numeric)."""
        from ctgan import CTGAN  # heavy import, kept out of module import

        if profiles.empty or profiles.isna().any().any():
            raise ValueError("profiles must be a non-empty table without missing values")
        discrete = [c for c in profiles.columns if not pd.api.types.is_numeric_dtype(profiles[c])]
        integer = [c for c in profiles.columns if pd.api.types.is_integer_dtype(profiles[c])]
        c = self.config
        self._model = CTGAN(
            embedding_dim=c.embedding_dim,
            generator_dim=c.generator_dim,
            discriminator_dim=c.discriminator_dim,
            generator_lr=c.learning_rate,
            discriminator_lr=c.learning_rate,
            batch_size=c.batch_size,
            epochs=c.epochs,
            pac=c.pac,
            verbose=progress,
            enable_gpu=torch.device(c.device).type == "cuda",
        )
        self._model.set_random_state(c.seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)  # from rdt/sklearn
            self._model.fit(profiles, discrete_columns=discrete)
        self._columns = list(profiles.columns)
        self._categories = {col: sorted(profiles[col].unique()) for col in discrete}
        self._integer_ranges = {
            col: (int(profiles[col].min()), int(profiles[col].max())) for col in integer
        }
        if logdir is not None:
            self._log_losses(Path(logdir))
        return self

    def _log_losses(self, logdir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        losses = self._model.loss_values[["Epoch", "Generator Loss", "Discriminator Loss"]]
        with SummaryWriter(logdir) as writer:
            for epoch, generator_loss, discriminator_loss in losses.itertuples(index=False):
                writer.add_scalar("losses/generator", generator_loss, epoch)
                writer.add_scalar("losses/discriminator", discriminator_loss, epoch)

    def sample(
        self,
        n: int,
        seed: int,
        condition_column: str | None = None,
        condition_value: str | None = None,
    ) -> pd.DataFrame:
        """`n` synthetic profiles; the same seed gives the same profiles.

        With `condition_column`/`condition_value`, every profile has that category (CTGAN's
        conditional sampling, then rejection of the rows without it).
        """
        if self._model is None:
            raise RuntimeError("the generator is not trained: call fit() or load() first")
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if (condition_column is None) != (condition_value is None):
            raise ValueError("give both condition_column and condition_value, or neither")
        if condition_column is not None:
            if condition_column not in self._categories:
                raise ValueError(
                    f"cannot condition on {condition_column!r}; discrete columns: "
                    f"{', '.join(self._categories)}"
                )
            if condition_value not in self._categories[condition_column]:
                raise ValueError(
                    f"{condition_column!r} has no category {condition_value!r}; known: "
                    f"{', '.join(map(repr, self._categories[condition_column]))}"
                )
        self._model.set_random_state(seed)
        if condition_column is None:
            table = self._model.sample(n)
        else:
            table = self._rejection_sample(n, condition_column, condition_value)
        for column, (low, high) in self._integer_ranges.items():
            table[column] = np.clip(np.round(table[column]), low, high).astype(np.int64)
        return table[self._columns].reset_index(drop=True)

    def _rejection_sample(self, n: int, column: str, value: str) -> pd.DataFrame:
        # CTGAN's condition only raises the category's probability; keep the rows that have
        # it, as SDV does, and give up with a clear error if the category is too rare.
        kept, drawn = [], 0
        while sum(len(part) for part in kept) < n:
            if drawn >= _MAX_REJECTION_DRAWS * n:
                raise ValueError(
                    f"could not draw {n} profiles with {column}={value!r} in {drawn} tries"
                )
            batch = self._model.sample(n, condition_column=column, condition_value=value)
            drawn += n
            kept.append(batch[batch[column] == value])
        return pd.concat(kept).iloc[:n]

    def save(self, path: str | Path) -> str:
        """Write the generator to `path` atomically; returns the file's SHA-256."""
        if self._model is None:
            raise RuntimeError("the generator is not trained: nothing to save")
        path = Path(path)
        state = {
            "format": "mano-ctgan-1",
            "config": asdict(self.config),
            "columns": self._columns,
            "categories": self._categories,
            "integer_ranges": self._integer_ranges,
            "model": self._model,
        }
        self._model.set_device(torch.device("cpu"))  # a saved model loads on any machine
        try:
            with atomic_write(path) as file:
                torch.save(state, file)
        finally:
            self._model.set_device(torch.device(self.config.device))
        return file_sha256(path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        sha256: str | None = None,
        trusted: bool = False,
        device: str = "cpu",
    ) -> ProfileGenerator:
        """Load a saved generator. The file is a pickle, so it is opened only if its SHA-256
        equals `sha256`, or if `trusted=True` says the caller vouches for it."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"profile generator not found: {path}")
        if not trusted:
            if sha256 is None:
                raise ValueError(
                    f"{path} is a pickle, opened only when its SHA-256 is known or it is marked "
                    "trusted (trusted=True; --trusted on the command line): only your own files"
                )
            actual = file_sha256(path)
            if actual != sha256:
                raise ValueError(
                    f"{path}: SHA-256 {actual} does not match the expected {sha256}; "
                    "refusing to unpickle it (pass trusted=True, --trusted on the command "
                    "line, only for a file you made yourself)"
                )
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as error:  # a corrupt pickle can raise almost anything
            raise ValueError(f"{path}: not a readable profile generator ({error})") from None
        if not isinstance(state, dict) or state.get("format") != "mano-ctgan-1":
            raise ValueError(f"{path}: not a Mano profile generator (format mano-ctgan-1)")
        saved = state["config"]
        config = ProfileGeneratorConfig(
            **saved
            | {
                "device": device,
                "generator_dim": tuple(saved["generator_dim"]),
                "discriminator_dim": tuple(saved["discriminator_dim"]),
            }
        )
        generator = cls(config)
        generator._model = state["model"]
        generator._model.set_device(torch.device(device))
        generator._columns = state["columns"]
        generator._categories = state["categories"]
        generator._integer_ranges = {k: tuple(v) for k, v in state["integer_ranges"].items()}
        return generator
