"""Coverage-guided fuzzing of the engine's untrusted-input entry points with atheris (libFuzzer).

``targets`` registers one function per entry point, ``mutator`` keeps rollouts
structured while mutating them, ``harness`` is the fuzzing process, ``runner``
starts it and reads back executions, coverage and findings, and ``__main__`` is
``python -m benchmarks.fuzz``. Only ``harness`` imports atheris at module level.
"""
