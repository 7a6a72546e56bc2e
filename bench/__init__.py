"""Benchmarks (not part of the test suite): `python -m bench.feeds --feeds 1000`."""
