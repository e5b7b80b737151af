"""Log configuration shared by the command line and the gateway app."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Root logging at ``level`` (once), with chatty libraries kept quiet.

    httpx logs every request URL at INFO, and Rasa's token travels in the query
    string, so it stays at WARNING.
    """
    logging.basicConfig(level=level, format=FORMAT)
    for noisy in ("alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
