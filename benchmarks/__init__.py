"""Benchmarks for Greenlight: intake latency on the local runtime, cold start per function and the
cost of one request on AWS, up to the triage wait and through a whole lifecycle per review lane.
Run `python -m benchmarks` from the repository root (`make bench`); the figures land in
benchmarks/RESULTS.md."""
