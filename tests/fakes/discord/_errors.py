"""Discord-shaped API errors, and the errors the fake raises at test authors.

Handlers raise `ApiError`; one middleware turns it into the JSON body Discord
sends (`{"message", "code", "errors"?}`), so every refusal looks the same on the
wire and the status/code pairs live in one table here.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal the real API would send: HTTP status, JSON error code, message."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class FakeUsageError(ValueError):
    """The test asked the fake for something a real Discord user could not do
    (run a command that was never synced, click a button that does not exist)."""


class FakeTimeout(TimeoutError):
    """A `wait_for*` helper gave up; the message says what it waited for."""


class InteractionFailed(AssertionError):
    """The bot did not acknowledge an interaction the way Discord requires; the
    user would have seen "The application did not respond"."""


def form_error(path: list[str | int], code: str, message: str) -> ApiError:
    """400/50035 with Discord's nested `errors` object pointing at `path`."""
    leaf: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        leaf = {str(key): leaf}
    return ApiError(400, 50035, "Invalid Form Body", leaf)


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def unknown_channel() -> ApiError:
    return ApiError(404, 10003, "Unknown Channel")


def unknown_guild() -> ApiError:
    return ApiError(404, 10004, "Unknown Guild")


def unknown_member() -> ApiError:
    return ApiError(404, 10007, "Unknown Member")


def unknown_message() -> ApiError:
    return ApiError(404, 10008, "Unknown Message")


def unknown_user() -> ApiError:
    return ApiError(404, 10013, "Unknown User")


def unknown_emoji() -> ApiError:
    return ApiError(400, 10014, "Unknown Emoji")


def unknown_webhook() -> ApiError:
    return ApiError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> ApiError:
    return ApiError(404, 10062, "Unknown interaction")


def unknown_command() -> ApiError:
    return ApiError(404, 10063, "Unknown application command")


def too_many_attachments() -> ApiError:
    return ApiError(400, 30015, "Maximum number of attachments in a message reached (10)")


def too_large() -> ApiError:
    return ApiError(413, 40005, "Request entity too large")


def already_acknowledged() -> ApiError:
    return ApiError(400, 40060, "Interaction has already been acknowledged.")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def not_author() -> ApiError:
    return ApiError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def invalid_json() -> ApiError:
    return ApiError(400, 50109, "The request body contains invalid JSON.")
