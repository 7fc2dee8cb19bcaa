"""The app ``flask scheduler tick|run`` runs in test_scheduler_crash.py.

It is the production factory with the production settings read from the environment
(DATABASE_URL, AGENCYDESK_SYNC_CHUNK, AGENCYDESK_RETRY_MINUTES …), and the sync job
registered again by the test, wrapped with the fault the test asks for. Nothing in
``app/`` reads these variables:

    AGENCYDESK_TEST_CHUNK_PAUSE=0.2   sleep inside each chunk's transaction, before it
                                      commits (a kill then lands mid-chunk)
    AGENCYDESK_TEST_FAIL=1:3          attempt 1 raises at its 3rd chunk (not committed)

    flask --app tests/web/scheduler_app.py:create scheduler tick
"""
from __future__ import annotations

import os
import time

from app import create_app, scheduler


def create():
    app = create_app()
    pause = float(os.environ.get("AGENCYDESK_TEST_CHUNK_PAUSE", "0"))
    fail = os.environ.get("AGENCYDESK_TEST_FAIL")
    fail_attempt, fail_chunk = (int(v) for v in fail.split(":")) if fail else (None, None)
    name, rule, sync = scheduler.JOBS["sync_obligations"]

    def sync_with_fault(ctx):
        real, chunks = ctx.checkpoint, []

        def checkpoint(cursor, rows):
            chunks.append(cursor)
            if ctx.attempt == fail_attempt and len(chunks) == fail_chunk:
                raise RuntimeError(f"injected failure at chunk {fail_chunk}")
            time.sleep(pause)
            real(cursor, rows)

        ctx.checkpoint = checkpoint
        return sync(ctx)

    scheduler.JOBS["sync_obligations"] = (name, rule, sync_with_fault)
    return app
