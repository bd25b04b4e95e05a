"""One exception hierarchy; the HTTP edge maps it to Seam's error envelope in one place."""

from __future__ import annotations

from typing import Any


class LockhubError(Exception):
    """An error with a Seam `error.type`, a human message and an HTTP status."""

    status_code = 400
    error_type = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        status_code: int | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_type:
            self.error_type = error_type
        if status_code:
            self.status_code = status_code
        self.data = data
        self.headers = headers or {}


class InvalidInput(LockhubError):
    """400 invalid_input with a zod-shaped `validation_errors` tree."""

    error_type = "invalid_input"

    def __init__(self, message: str, validation_errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.validation_errors = validation_errors or {"_errors": [message]}

    @classmethod
    def for_field(cls, path: list[str], issue: str) -> InvalidInput:
        return cls.from_issues([(path, issue)])

    @classmethod
    def from_issues(cls, issues: list[tuple[list[str], str]]) -> InvalidInput:
        """Build the zod `format()` tree and message from (path, issue) pairs."""
        tree: dict[str, Any] = {"_errors": []}
        parts: list[str] = []
        for path, issue in issues:
            node = tree
            for key in path:
                node = node.setdefault(key, {"_errors": []})
            node["_errors"].append(issue)
            dotted = ".".join(path)
            if not path:
                parts.append(issue)
            elif issue == "Required":
                parts.append(f"{dotted} is required")
            else:
                parts.append(f'{issue} for "{dotted}"')
        message = parts[0] if len(parts) == 1 else f"{len(parts)} Input Errors: " + ", ".join(parts)
        return cls(message, tree)


class Unauthorized(LockhubError):
    status_code = 401
    error_type = "unauthorized"


class NotFound(LockhubError):
    status_code = 404

    def __init__(self, resource: str, data: dict[str, Any] | None = None) -> None:
        label = resource.replace("_", " ").capitalize()
        super().__init__(f"{label} not found", error_type=f"{resource}_not_found", data=data)


class MethodNotAllowed(LockhubError):
    status_code = 405
    error_type = "method_not_allowed"


class RateLimited(LockhubError):
    status_code = 429
    error_type = "rate_limit_exceeded"


class ServiceUnavailable(LockhubError):
    """503: the database cannot take the request now (busy, unreachable, read-only, full, or
    its file is gone). Raised by the store, so the API never sees a driver error."""

    status_code = 503
    error_type = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class RouteNotSupported(LockhubError):
    """501: a route of Seam's API that lockhub does not serve (yet); a path Seam does not have
    is a 404."""

    status_code = 501
    error_type = "route_not_supported"

    def __init__(self, path: str) -> None:
        super().__init__(f"lockhub does not support {path}: it is part of Seam's API but not "
                         f"served by this server (GET /openapi.json lists the routes it serves)",
                         data={"route": path})
