"""Stopping the app's background tasks for good.

``task.cancel()`` then ``await task`` waits forever when the task swallows its
cancellation: a library that catches ``CancelledError`` in the middle of a call (seen in
the Redis client, cancelled mid-command) returns normally, and the task goes back to
waiting for work that will never come. A shutdown that waits on it never ends. Here a
task still running after ``CANCEL_AGAIN_SECONDS`` is cancelled again, until it stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

__all__ = ["CANCEL_AGAIN_SECONDS", "stop_tasks"]

log = logging.getLogger("comptoir.tasks")

CANCEL_AGAIN_SECONDS = 1.0


async def stop_tasks(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel the tasks and return once every one has ended (a failure it ended with is
    logged, not raised: the caller is shutting down)."""
    tasks = list(tasks)  # read twice: to stop them, then for how each ended
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    while pending:
        _done, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_SECONDS)
        for task in pending:
            log.warning("task %s did not stop when cancelled; cancelling it again",
                        task.get_name())
            task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("task %s had failed", task.get_name(), exc_info=task.exception())
