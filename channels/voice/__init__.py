"""``POST /twilio/voice`` and ``/twilio/voice/*``: the phone line (IVR).

A call is one conversation (keyed by CallSid). The flow:

* ``/twilio/voice`` — greeting with the district's name and "para español
  oprima 2"; caller-ID lookup files the call on the account.
* ``/twilio/voice/language`` — 2 switches to Spanish (recogniser ``es-MX`` and
  a Spanish voice from then on); anything else goes on in English.
* ``/twilio/voice/turn`` — every later ``<Gather>``: keypad menu (1 balance,
  2 pay, 3 outages and water problems, 4 start/stop service, 0 a person),
  keypad choices for offered buttons, digits typed when a number is asked
  (account numbers, ZIPs), and speech for the assistant. Low confidence gets
  one re-prompt, then the keypad; silence gets two re-prompts, then a person
  (office open) or voicemail (closed, saying when a person will call back).
  Saying only "español" / "English" switches the call's language; once Rasa
  has a session its ``language`` slot is set too, so the bot's answers follow.
* ``/twilio/voice/pay`` — ``<Pay>``'s result: the payment (or the failure)
  is recorded and the caller hears the confirmation number. Card data stays
  inside Twilio.
* ``/twilio/voice/dial``, ``/whisper``, ``/recorded``, ``/transcription`` —
  hand-off: transfer with a whisper of the case summary, or voicemail that
  becomes a ticket with a callback request and its transcription.

Every turn URL carries a turn number ``n``; a redelivered request (same call,
same path, same ``n``) gets the TwiML answered the first time.

Modules: :mod:`~channels.voice.routes` (the webhooks), :mod:`~channels.voice.flow`
(a new call and every ``<Gather>`` turn), :mod:`~channels.voice.payment` and
:mod:`~channels.voice.handoff` (the other callbacks), :mod:`~channels.voice.prompts`
(what the call says next, with the state that goes with it),
:mod:`~channels.voice.render` (TwiML building blocks), :mod:`~channels.voice.state`
(what a call keeps between requests), :mod:`~channels.voice.inbound` (reading the
request) and :mod:`~channels.voice.copy` (every fixed phrase, English and Spanish).
"""
