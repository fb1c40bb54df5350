"""``ganterp bench``: speed, latency, memory and musicality, measured on this machine.

Every figure comes from running the real code: the analysis over the demo
track, the generators in a loop, whole shows through the real pipeline (file
player → ring → analysis thread → trajectory → generator thread → compositor →
pygame display), offline renders in their own processes, OSC under load and
the musicality measures against a peer's mapping. Results are printed as
tables and saved as JSON; medians and percentiles are over the individual
measurements.
"""
