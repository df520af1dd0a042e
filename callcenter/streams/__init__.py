"""Live streams: every event read once, serialised once, fanned out to every screen.

- ``feed``: what a stream may see (its scope and channel), the SSE frames, replay pages,
  the coalesced positions and the events that end a credential's streams.
- ``registry``: caps per user and in total, as leases (Redis, or this process's memory).
- ``broadcaster``: the embedded default. One reader thread per web process fans out from
  memory to that process's streams; streams per process are capped below the thread count.
- ``grip`` and ``relay``: production. Pushpin holds every connection; the web answers each
  stream request with the events missed since ``Last-Event-ID`` and hands the connection
  over on channels; one relay process publishes each new event once.
- ``pushpin_conf``: writes a Pushpin configuration for scripts/production.sh and the tests.

Reads only: nothing here commits.
"""
