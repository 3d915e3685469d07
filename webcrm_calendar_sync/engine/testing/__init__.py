"""Local fake servers speaking the providers' wire formats, for tests and benchmarks."""
