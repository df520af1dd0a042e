"""EIDO exchange (NENA-STA-021, JSON) with other centers: a Polsek, the 112 center, a
neighbouring Polres.

- ``schema``: NENA's schema (shipped as JSON) and the check of a document against it;
- ``export``: a ticket as an EIDO document;
- ``intake``: an EIDO document taken in as a ticket, created or updated, idempotently;
- ``pidf``: locations as PIDF-LO inside the documents;
- ``common``: the ids and times both directions write and read.
"""
