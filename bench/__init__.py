"""Benchmarks of what the bot adds on top of the GPU's own time (issue 7).

Each module is one figure and runs with one command, e.g.
`.venv/bin/python -m bench.engine_overhead`; `--quick` proves it runs, `--json
PATH` writes the raw results. The latest figures are in docs/benchmarks.md.
"""
