"""How good and how private synthetic data is: fidelity, utility and privacy metrics for the
generators, shared by the tests, the benchmarks and the CLI (SPEC section 4)."""

from generators.evaluation.privacy import (
    dcr_share,
    distance_to_closest_record,
    exact_copies,
    membership_inference_auc,
    window_privacy,
)
from generators.evaluation.rhythms import (
    autocorrelation_error,
    daily_marginal_ks,
    discriminative_score,
    distribution_score,
    evaluate_rhythms,
    lag1_autocorrelation,
    predictive_score,
)

__all__ = [
    "autocorrelation_error",
    "daily_marginal_ks",
    "dcr_share",
    "discriminative_score",
    "distance_to_closest_record",
    "distribution_score",
    "evaluate_rhythms",
    "exact_copies",
    "lag1_autocorrelation",
    "membership_inference_auc",
    "predictive_score",
    "window_privacy",
]
