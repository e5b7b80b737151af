"""The customer-service email inbox: read, triage, answer or escalate, never loop.

Modules: ``parse`` (raw mail to :class:`~inbox.parse.ParsedEmail`), ``loop_guard``
(RFC 3834 rules and bounces), ``sources`` (IMAP and Maildir), ``classify`` (the
NLU), ``triage`` (decisions and records), ``answers`` (reply texts), ``reply``
(threaded MIME replies and SMTP), ``outbox`` (sending with retry), ``worker``
(lease, idempotency, filing), ``service`` (wiring and the run loop), ``cli``,
``demo_mail``.
"""
