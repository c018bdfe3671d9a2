"""Errors that services raise for users; each names the field and says what to do.

The message is an English template with ``%(name)s`` placeholders. The web layer
translates the template (Babel extracts it: see ``babel.cfg``) and then fills it,
so a user reads it in their own language.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a user can fix. ``code`` is stable for the API."""

    code = "invalid"
    status = 400

    def __init__(self, field: str, template: str, **params: object) -> None:
        self.field = field
        self.template = template
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


class Invalid(ServiceError):
    code = "invalid"
    status = 400


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class TooMany(ServiceError):
    code = "quota_exceeded"
    status = 429


class Unavailable(ServiceError):
    """The platform cannot take this now (e.g. out of storage); nothing was kept."""

    code = "unavailable"
    status = 503
