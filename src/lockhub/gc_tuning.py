"""Garbage-collector settings for the long-running processes (serve, worker).

A full collection walks every tracked object; after start-up that is ~150,000 objects of
modules, SQLAlchemy metadata and compiled statements that live as long as the process, and a
walk took 50-60 ms on one core, a pause every request in flight waits out (it was the p99 of
the list routes, which allocate the most). `gc.freeze()` moves what start-up built to a
permanent generation that collections skip, and a higher first threshold makes young
collections rarer; reference cycles are still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def freeze_startup_objects() -> None:
    """Call once the process has built what it keeps (routes, statements, runtime)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
