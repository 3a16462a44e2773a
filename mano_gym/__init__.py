"""Mano: a Gymnasium environment for adaptive mental-health treatment research.

The environment itself (`ManoPatient-v0`) is registered here once it exists; this module stays
light to import.
"""

__version__ = "0.1.0"
