"""Connected accounts and their status, and "Connect an account": a Connect Webview whose
redirect leads back to this page."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.response import Redirect

from lockhub.web.console.visit import HEADERS, PREFIX, Visit, page


@page("/accounts")
async def account_list(visit: Visit) -> Response[Any]:
    accounts = (await visit.api("/connected_accounts/list"))["connected_accounts"]
    devices = (await visit.api("/devices/list"))["devices"]
    counts: dict[str, int] = {}
    for device in devices:
        counts[device["connected_account_id"]] = counts.get(device["connected_account_id"], 0) + 1
    return visit.render("accounts.html", accounts=accounts, device_counts=counts)


@page("/accounts/connect", methods=("POST",))
async def connect(visit: Visit) -> Response[Any]:
    back = visit.rt.settings.base_url.rstrip("/") + PREFIX + "/accounts"
    webview = (await visit.api("/connect_webviews/create", custom_redirect_url=back,
                               custom_redirect_failure_url=back))["connect_webview"]
    return Redirect(path=webview["url"], status_code=303, headers=HEADERS)


@page("/accounts/{connected_account_id:str}/delete", methods=("POST",))
async def delete(visit: Visit) -> Response[Any]:
    await visit.api("/connected_accounts/delete",
                    connected_account_id=visit.path_param("connected_account_id"))
    return visit.redirect("/accounts", notice="account_deleted")
