"""The ``ganterp`` command line: one module per command, the shared flags, the entry point.

``main`` parses the arguments with the grammar every command module adds to,
then runs the chosen command; every error a user can cause ends it with one
line on stderr and exit status 2.
"""
