"""How Python blocks report malformed input they drop (the rule of lib/drop_log.h).

At WARN, one line per drop naming the reason; after the first FIRST drops only every
EVERY-th is logged, with the running count, so that bad input cannot flood the log.
"""

FIRST = 100
EVERY = 1000


class DropLog:
    """Counts drops and logs them through a block's `self.logger`."""

    def __init__(self):
        self.count = 0

    def __call__(self, logger, what: str, why) -> None:
        self.count += 1
        if self.count <= FIRST:
            logger.warn(f"dropped {what}: {why}")
        elif self.count % EVERY == 0:
            logger.warn(f"dropped {what}: {why} ({self.count} dropped so far; "
                        f"logging every {EVERY}th from now on)")
