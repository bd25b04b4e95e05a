"""`POST /internal/tlmtry`: where Seam Components send their usage telemetry.

The components (`@seamapi/react`, its elements build too) POST one Segment-style message per
event (`identify`, `group`, `alias`, `screen`, ...) as JSON to `<endpoint>/internal/tlmtry`
with `fetch`, from the integrator's own origin, carrying no credential at all; a failed answer
only makes them log an error when debugging. lockhub keeps nothing: it answers `{"ok": true}`
and drops the message, so the components work against it without their telemetry going
anywhere. Integrators can also switch it off (`disable-telemetry`, or
`globalThis.disableSeamTelemetry = true`).

Auth: none, since the components send none (a session token would not even be at hand for
the first messages). The route reads nothing and changes nothing, so it answers any origin
(`any_origin`: `Access-Control-Allow-Origin: *`, no credentials); the body is bounded like
every other request's by the input limits.
"""

from __future__ import annotations

from lockhub.api.context import Ctx
from lockhub.api.routing import route


@route("/internal/tlmtry", auth="none", any_origin=True)
async def telemetry(ctx: Ctx, params: None) -> None:
    """Accept a Seam Components telemetry message and drop it."""
