"""The risk predictor: risk labels and the hybrid dual-branch LSTM, trained on arrays.

`labels` (risk classes, DASS bands, seed-style rules), `network` (`HybridLSTM`), `model`
(`RiskPredictor`: predict, save, load), `training` (`PredictorConfig`, `train_predictor`),
`baselines` (summary-feature classifiers) and `metrics`. Importing this package is light: the
modules load torch and sklearn themselves.
"""
