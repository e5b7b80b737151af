"""Errors the customer caused versus errors of the system.

Customer errors get a clear answer (not found, wrong factor, too many tries);
system errors get an apology, a ticket, and a log line.
"""


class CustomerError(Exception):
    """Something about the customer's input or situation; tell them plainly."""


class NotFound(CustomerError):
    """No such account, contact or record."""


class VerificationLocked(CustomerError):
    """Too many failed verification attempts; a person has to help."""


class NotVerified(CustomerError):
    """The conversation has not reached the tier this answer needs."""


class SystemError_(Exception):
    """A part of the system failed (database, Rasa, SMTP, Twilio)."""
