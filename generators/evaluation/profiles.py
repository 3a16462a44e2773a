"""Fidelity and privacy of synthetic profiles (tables of numeric and categorical columns)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from generators.evaluation.privacy import exact_copies, membership_inference_auc


def sdmetrics_metadata(table: pd.DataFrame) -> dict:
    """SDMetrics single-table metadata: numeric columns numerical, the rest categorical."""
    return {
        "columns": {
            column: {
                "sdtype": "numerical"
                if pd.api.types.is_numeric_dtype(table[column])
                else "categorical"
            }
            for column in table.columns
        }
    }


def profile_quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    """SDMetrics QualityReport: Column Shapes and Column Pair Trends (1 = identical)."""
    with warnings.catch_warnings():
        # Deprecated in favour of the unified report, which adds correlation thresholds to
        # Column Pair Trends; kept so that the published numbers stay comparable.
        warnings.filterwarnings("ignore", category=FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synthetic[real.columns], sdmetrics_metadata(real), verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return {
        "column_shapes": float(scores["Column Shapes"]),
        "column_pair_trends": float(scores["Column Pair Trends"]),
    }


def encode_profiles(table: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Numeric rows for distances: numeric columns min-max scaled and categorical columns
    one-hot encoded, both with `reference`'s ranges and categories (so a mismatch is a
    distance of 1 per column)."""
    parts = []
    for column in reference.columns:
        values = table[column]
        if pd.api.types.is_numeric_dtype(reference[column]):
            low, high = reference[column].min(), reference[column].max()
            parts.append(((values.to_numpy(float) - low) / max(high - low, 1e-9))[:, None])
        else:
            categories = np.array(sorted(reference[column].unique()))
            parts.append((values.to_numpy()[:, None] == categories[None, :]) / np.sqrt(2))
    return np.hstack(parts).astype(np.float64)


def profile_privacy(
    synthetic: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, seed: int = 0
) -> dict[str, float]:
    """Exact copies of training rows, SDMetrics DCROverfittingProtection (1 = synthetic rows
    are no closer to the training rows than to unseen holdout rows) and a distance-based
    membership-inference AUC (0.5 = no leak).

    DCROverfittingProtection compares nearest distances to two tables; the larger table would
    look nearer by chance alone, so it gets as many training rows (a seeded subsample) as
    there are holdout rows.
    """
    from sdmetrics.single_table import DCROverfittingProtection

    train_part = train.sample(n=min(len(train), len(holdout)), random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        protection = DCROverfittingProtection.compute(
            real_training_data=train_part,
            synthetic_data=synthetic[train.columns],
            real_validation_data=holdout,
            metadata=sdmetrics_metadata(train),
            table_name=None,
        )
    reference = pd.concat([train, holdout])
    encoded = [encode_profiles(t, reference) for t in (synthetic, train, holdout)]
    return {
        "exact_copies": int(exact_copies(synthetic[train.columns], train)),
        "dcr_overfitting_protection": float(protection),
        "mia_auc": float(membership_inference_auc(*encoded)),
    }
