"""The risk predictor: risk labels and the hybrid dual-branch LSTM, trained on arrays."""
