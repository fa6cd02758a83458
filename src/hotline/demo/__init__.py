"""The demo county and synthetic counties for tests and benchmarks."""
