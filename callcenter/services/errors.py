"""Errors a service raises; the API turns them into its JSON error shape, pages into messages."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, *, fields: dict | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_json(self) -> dict:
        body = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return {"error": body}


class ValidationError(ServiceError):
    status = 422
    code = "validation_failed"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Locked(ServiceError):
    status = 429
    code = "locked"


class Refused(ServiceError):
    """Not now: too many requests (429) or no room (503); ``retry_after`` says when to try."""

    status = 429
    code = "too_many_streams"

    def __init__(self, message, *, retry_after: int, status: int = 429, code: str | None = None):
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = max(1, int(retry_after))
