"""Scripts that measure Mano's quality and speed and write tables under `benchmarks/results/`."""
