"""The WhatsApp Center: reports by WhatsApp, answered by dispatchers, turned into tickets.

- ``webhook``: the Cloud API's deliveries, checked and stored (messages, delivery reports).
- ``threads``: one conversation per reporter number: claim, read, close, link to a ticket.
- ``outbox``: replies and automatic updates, sent by a task with retries, in the 24-hour window.
- ``media``: photos, voice notes, videos and documents fetched from the Graph API by a task.
- ``reactions``: automatic updates as reactions to ticket events, and the periodic repairs.
- ``graph``: the Graph API over HTTP; ``texts``: what reporters read (Bahasa Indonesia).
"""
