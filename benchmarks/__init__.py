"""`make bench` and `make bench-accuracy`: speed and accuracy, measured side by side.

Not part of the wheel; run from the project root with `python -m benchmarks`.
"""
