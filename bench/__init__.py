"""Benchmarks of the engine core: persisted lifecycle steps, replay-and-verify, and memory.

``python3 run.py bench`` (or ``.venv/bin/python -m bench``) prints Markdown tables for
``BENCHMARKS.md``. Every measured piece of work runs in a fresh child process so that its
peak RSS is its own; the parent only creates and removes the scratch databases and prints.
Nothing here is imported by the four packages, and nothing here changes them.
"""
