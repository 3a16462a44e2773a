"""Mano's data layer: real-data loaders, the signal vocabulary and the synthetic-data generators.

Importing this package is light (no torch): the generators load their heavy dependencies in
their own modules.
"""
