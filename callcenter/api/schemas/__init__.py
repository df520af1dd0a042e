"""The API's declared shapes: one module per resource. Requests are ``Body``/``Query``
models, answers ``Out`` models; ``api/contract.py`` turns them into validation and the
OpenAPI document."""
