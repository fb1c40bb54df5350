"""The core: what every layer may use and which uses nothing else of ganterp.

The clock, the errors, the commands, the hand-off slots, the rate meter and
log-once, the service base, output-path checks and quieting native stderr.
"""
