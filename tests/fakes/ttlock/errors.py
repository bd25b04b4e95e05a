"""TTLock's error envelope: HTTP 200 with `{"errcode", "errmsg", "description"}`.

Codes and messages are the documented ones (https://euopen.ttlock.com/doc/api/error,
http://i2gtrip.com/doc/api/error) except where marked: those are not in the documentation we
could read, and are the fake's choice until a real answer is captured.
"""

from __future__ import annotations

INVALID_PARAMETER = -3
INVALID_CLIENT_ID = 10000
INVALID_CLIENT = 10001
INVALID_TOKEN = 10003
INVALID_GRANT = 10004
UNREVIEWED_APP = 10006
INVALID_ACCOUNT = 10007
UNSUPPORTED_GRANT_TYPE = 10010
INVALID_REFRESH_TOKEN = 10011
INVALID_KEYBOARD_PWD_VERSION = 20007
CALL_LIMIT = 30006
DATE_NOT_CURRENT = 80000
INTERNAL = 90000
NO_GATEWAY = -2012
PERMISSION_DENIED = -2018  # the docs' table is cut after "-2018 Pe"; message assumed
GATEWAY_BUSY = -3003  # docs.bizkithub.com TTLE_3003, homebridge-ttlock #2/#11
PASSCODE_EXISTS = -3007  # not in the readable docs (fake's choice)
PASSCODE_STORAGE_FULL = -3009  # not in the readable docs (fake's choice)
NOT_SUPPORTED = -4043  # not in the readable docs (fake's choice)

MESSAGES = {
    INVALID_PARAMETER: "Invalid Parameter.",
    INVALID_CLIENT_ID: "invalid client_id",
    INVALID_CLIENT: "invalid client",
    INVALID_TOKEN: "invalid token",
    INVALID_GRANT: "invalid grant",
    UNREVIEWED_APP: "invalid username",
    INVALID_ACCOUNT: "invalid account",
    UNSUPPORTED_GRANT_TYPE: "unsupported grant_type",
    INVALID_REFRESH_TOKEN: "invalid refresh_token",
    INVALID_KEYBOARD_PWD_VERSION: "invalid keyboardPwdVersion",
    CALL_LIMIT: "exceeds the restrictions of API call number",
    DATE_NOT_CURRENT: "date must be current time",
    INTERNAL: "internal server error",
    NO_GATEWAY: "The Lock is not connected to any Gateway.",
    PERMISSION_DENIED: "Permission Denied.",
    GATEWAY_BUSY: "Gateway is busy, please try again later.",
    PASSCODE_EXISTS: "The passcode already exists. Please use another one.",
    PASSCODE_STORAGE_FULL: "The passcode storage of the lock is full.",
    NOT_SUPPORTED: "The function is not supported for this lock.",
}


class TTLockError(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(MESSAGES[errcode])
        self.errcode = errcode

    def envelope(self) -> dict[str, object]:
        message = MESSAGES[self.errcode]
        return {"errcode": self.errcode, "errmsg": message, "description": message}


def success() -> dict[str, object]:
    """The documented answer of calls that return nothing else (lock, unlock, delete...)."""
    return {"errcode": 0, "errmsg": "none error message",
            "description": "none error message or means yes"}
