"""The scale data generator and the benchmarks behind ``make bench`` (see benchmarks/README section in the
project README). Run from the repository root: ``python -m benchmarks.run``."""
