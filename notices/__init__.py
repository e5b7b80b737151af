"""Proactive notices: tell affected customers about outages, planned work and boil-water notices.

When a notice is created, updated or closed (``assistant notice create|update|close``,
through :mod:`notices.lifecycle`), :func:`notices.announce.announce_notice`:

1. finds the affected accounts (the notice's zones and street blocks, matched
   exactly as ``accounts.services.notices`` matches them for the assistant) and
   picks one address per customer (:mod:`notices.recipients`);
2. writes the text in the customer's language (:mod:`notices.copy`);
3. enqueues the messages in the outbox (``OutboundMessage`` purpose ``notice``)
   with a send schedule (:mod:`notices.schedule`): SMS paced per sending number,
   non-safety messages held out of the district's quiet hours;
4. on an update or a closure, cancels the notice's messages still waiting, and
   on a closure tells everyone who was sent the notice that it is over.

:func:`notices.dispatch.dispatch_due` sends what is due and writes each message
to the recipient's contact log when it is actually sent; :mod:`notices.status`
answers an SMS "STATUS" from the notices themselves. This package sits below
the channels and the escalation queue: it imports only ``accounts``, and is
handed its transports (SMS, email) and the district by its callers.
"""
