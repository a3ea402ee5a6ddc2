"""The ``rollout`` command: inspect, validate, import, export, list, fork, roll back.

Entry point: :func:`rollout.cli.main.main` (``main(argv) -> exit code``); the
console script calls :func:`rollout.cli.main.entry`. Nothing outside this
package imports it, and importing it loads neither rich nor the stores: rich is
imported only by :mod:`rollout.cli.render`, when something is drawn.
"""
