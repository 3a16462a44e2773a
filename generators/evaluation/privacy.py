"""Privacy of synthetic records: are training records copied, or recognisable, in the output?

Shared by profiles (tables) and rhythms (7-day windows). The distance functions take 2-D numeric
arrays whose rows are records, already encoded and scaled by the caller; `window_privacy` does
that for `(N, days, 5)` windows.

| metric                       | question                                         | best   |
|------------------------------|--------------------------------------------------|--------|
| `exact_copies`               | how many synthetic rows are training rows?       | 0      |
| `dcr_share`                  | closer to train than to an equal-size holdout?   | 0.5    |
| `dcr_overfitting_protection` | SDMetrics' version of the same question          | 1      |
| `membership_inference_auc`   | can an attacker tell members from non-members?   | 0.5    |
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from generators.evaluation.rhythms import check_windows, minmax_scaler


def _check_records(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or len(values) == 0:
        raise ValueError(
            f"{name}: expected a non-empty 2-D array (records, columns), got shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return values


def distance_to_closest_record(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance from each `query` row to its nearest `reference` row (0 = a copy)."""
    query, reference = _check_records(query, "query"), _check_records(reference, "reference")
    if query.shape[1] != reference.shape[1]:
        raise ValueError(f"query has {query.shape[1]} columns, reference {reference.shape[1]}")
    distances, _ = NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(query)
    return distances[:, 0]


def exact_copies(synthetic: np.ndarray | pd.DataFrame, train: np.ndarray | pd.DataFrame) -> int:
    """Number of synthetic rows identical to some training row (whole rows; missing values
    match missing values). 0 is best; a generator that memorises shows up here first."""
    synthetic, train = pd.DataFrame(synthetic), pd.DataFrame(train)
    if set(synthetic.columns) != set(train.columns):
        raise ValueError("synthetic and train must have the same columns")
    columns = list(synthetic.columns)
    # pandas merges NaN keys with NaN keys, so a copied row with a gap still counts
    matched = synthetic.merge(train.drop_duplicates(), on=columns, how="inner")
    return len(matched)


def _balanced(train: np.ndarray, holdout: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and holdout cut to the same number of rows (the larger one subsampled), so that a
    synthetic row that copies neither is as likely to land nearer either."""
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout))
    return (
        train[np.sort(rng.choice(len(train), size, replace=False))],
        holdout[np.sort(rng.choice(len(holdout), size, replace=False))],
    )


def dcr_share(
    synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, seed: int = 0
) -> float:
    """Share of synthetic rows strictly closer to the training rows than to the holdout rows
    (ties count half), with train and holdout subsampled to equal size.

    0.5 = the synthetic rows are no closer to the records the generator saw than to records it
    never saw (no memorisation); towards 1 = memorised; below 0.5 = the holdout is simply nearer
    the synthetic distribution (e.g. a distribution shift), not a privacy leak. When train is
    the larger set, a copy counts only if its original survives the subsampling, so full
    memorisation moves it only about len(holdout) / len(train) of the way from 0.5 to 1;
    `exact_copies` and `membership_inference_auc` see every copy.
    """
    train, holdout = _balanced(
        _check_records(train, "train"), _check_records(holdout, "holdout"), seed
    )
    to_train = distance_to_closest_record(synthetic, train)
    to_holdout = distance_to_closest_record(synthetic, holdout)
    return float(np.mean((to_train < to_holdout) + 0.5 * (to_train == to_holdout)))


def membership_inference_auc(
    synthetic: np.ndarray, members: np.ndarray, non_members: np.ndarray
) -> float:
    """ROC AUC of a distance attack that calls a record a training member the closer it lies
    to the synthetic data (score = minus its distance to the closest synthetic row).

    0.5 = members and non-members are equally close (no leak); 1 = every member is closer than
    every non-member (the synthetic data gives the training set away).
    """
    candidates = np.concatenate(
        [_check_records(members, "members"), _check_records(non_members, "non_members")]
    )
    labels = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    return float(roc_auc_score(labels, -distance_to_closest_record(candidates, synthetic)))


def window_privacy(
    synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, seed: int = 0
) -> dict[str, float]:
    """Privacy of synthetic `(N, days, 5)` windows against the training windows and windows the
    generator never saw (`holdout`: later weeks of the training people, or other people).

    Windows are min-max scaled per signal with the training windows' range and flattened to one
    record of `days * 5` values. Returns `exact_copies` (0 best), `dcr_share` (0.5 best),
    `dcr_overfitting_protection` (SDMetrics `DCROverfittingProtection`, on the same equal-size
    train and holdout as `dcr_share`; 1 best) and `mia_auc` (members = all training windows,
    non-members = all holdout windows; 0.5 best).

    SDMetrics divides each column's differences by that column's range *in the reference it
    measures against*, separately for train and holdout; a holdout with narrower ranges (fewer
    or more alike weeks) then looks farther from everything and the score drops for any
    generator. Read it beside `dcr_share`, which uses one scale for both.
    """
    from sdmetrics.single_table import DCROverfittingProtection

    synthetic = check_windows(synthetic, "synthetic")
    train = check_windows(train, "train")
    holdout = check_windows(holdout, "holdout")
    if len({x.shape[1] for x in (synthetic, train, holdout)}) != 1:
        raise ValueError("synthetic, train and holdout must have the same number of days")
    low, span = minmax_scaler(train)
    synthetic_rows, train_rows, holdout_rows = (
        ((x - low) / span).reshape(len(x), -1) for x in (synthetic, train, holdout)
    )

    train_part, holdout_part = _balanced(train_rows, holdout_rows, seed)
    columns = [f"v{i}" for i in range(train_rows.shape[1])]
    metadata = {"columns": {c: {"sdtype": "numerical"} for c in columns}}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        protection = DCROverfittingProtection.compute(
            real_training_data=pd.DataFrame(train_part, columns=columns),
            synthetic_data=pd.DataFrame(synthetic_rows, columns=columns),
            real_validation_data=pd.DataFrame(holdout_part, columns=columns),
            metadata=metadata,
            table_name=None,
        )
    return {
        "exact_copies": exact_copies(
            synthetic.reshape(len(synthetic), -1), train.reshape(len(train), -1)
        ),
        "dcr_share": dcr_share(synthetic_rows, train_rows, holdout_rows, seed=seed),
        "dcr_overfitting_protection": float(protection),
        "mia_auc": membership_inference_auc(synthetic_rows, train_rows, holdout_rows),
    }
