"""Fixtures for the inbox tests: a real Dovecot and a recording SMTP server."""

from tests.utils.dovecot import dovecot, dovecot_server
from tests.utils.smtp_server import smtp_server

__all__ = ["dovecot", "dovecot_server", "smtp_server"]
