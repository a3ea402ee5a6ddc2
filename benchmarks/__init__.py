"""Benchmarks: rollout-engine side by side with the thread stores users would pick instead.

Runnable modules (each takes ``--quick`` and ``--json``):

* ``python -m benchmarks``              every benchmark below, in one go
* ``python -m benchmarks.compare``      peers vs ours + machine limits; rewrites ``RESULTS.md``
* ``python -m benchmarks.limits``       the machine's limits alone
* ``python -m benchmarks.corpus_mix``   the real corpus's line mix, which ``workload`` imitates
* ``python -m benchmarks.fuzz``         coverage-guided fuzzing (atheris); not part of ``python -m benchmarks``
* ``python -m benchmarks.soak``         SIGKILL crash soak of every store; not part of ``python -m benchmarks``

``workload`` builds deterministic Codex rollout threads; ``peers`` drives each competitor
the way its own documentation recommends. Peer packages are the optional ``bench`` extra
(``pip install -e '.[bench]'``); a missing peer shows as a "not available" row, never a crash.
Nothing under ``benchmarks`` is imported by ``rollout``, ``replay`` or ``store``.
"""
