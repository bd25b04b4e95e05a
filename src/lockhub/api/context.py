"""What a handler receives besides its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from lockhub.errors import Unauthorized
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime


@dataclass
class Ctx:
    rt: Runtime
    principal: Principal | None
    request_id: str
    method: str = "POST"
    route_path: str = ""  # the Seam route being served (page cursors are bound to it)
    # A client session's visible devices, read once per request (api/session_scope.py).
    session_devices: set[str] | None = None

    @property
    def workspace_id(self) -> str:
        if self.principal is None or self.principal.workspace_id is None:
            raise Unauthorized("This route needs a workspace (API key, or PAT with seam-workspace)")
        return self.principal.workspace_id
