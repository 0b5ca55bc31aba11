"""Benchmarks: each compares cci-mock with a bare aiohttp app in the same run."""
