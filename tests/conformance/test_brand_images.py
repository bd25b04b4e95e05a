"""The `image_url`s lockhub serves (devices, their maker and provider, connected accounts,
device providers) are images lockhub serves itself, on its public base URL: each brand's logo
tile as SVG, cached for a day and revalidated by ETag. Nothing points at another host.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree

import httpx
import pytest
from seam import Seam

from lockhub.catalogue import brands
from tests.conformance.helpers import SANDBOX_KEY
from tests.server import LockhubServer, start_server

SVG = "{http://www.w3.org/2000/svg}"
PUBLIC_URL = "https://locks.example.com"


def image_urls(seam: Seam) -> set[str]:
    urls = set()
    for device in seam.devices.list():
        urls |= {device.properties.image_url, device.device_manufacturer.image_url,
                 device.device_provider.image_url}
    urls |= {account.image_url for account in seam.connected_accounts.list()}
    urls |= {provider.image_url for provider in seam.devices.list_device_providers()}
    return urls


def test_every_image_url_is_a_brand_image_lockhub_serves(seam: Seam,
                                                         server: LockhubServer) -> None:
    urls = image_urls(seam)
    prefix = f"{server.url}/_lockhub/images/brands/"
    assert urls and all(url.startswith(prefix) for url in urls), sorted(urls)
    for url in urls:
        key = url.removeprefix(prefix).removesuffix(".svg")
        response = httpx.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.headers["cache-control"] == "public, max-age=86400"
        assert response.headers["x-content-type-options"] == "nosniff"
        svg = ElementTree.fromstring(response.content)
        assert svg.tag == f"{SVG}svg"
        assert svg.findtext(f"{SVG}title") == brands()[key].display_name
        assert svg.findtext(f"{SVG}text") == brands()[key].logo.mark


def test_a_brand_image_is_revalidated_by_its_etag(server: LockhubServer) -> None:
    url = f"{server.url}/_lockhub/images/brands/august.svg"
    first = httpx.get(url)
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert httpx.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("name", ["unknown_brand.svg", "august.png", "august"])
def test_an_unknown_image_is_a_404_in_seams_envelope(server: LockhubServer, name: str) -> None:
    response = httpx.get(f"{server.url}/_lockhub/images/brands/{name}")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "brand_image_not_found"


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("public_url"), name="public_url",
                       env={"LOCKHUB_PUBLIC_URL": PUBLIC_URL})
    yield srv
    srv.stop()


def test_image_urls_are_on_the_public_url_behind_a_proxy(public_server: LockhubServer) -> None:
    urls = image_urls(Seam(api_key=SANDBOX_KEY, endpoint=public_server.url))
    assert urls and all(url.startswith(f"{PUBLIC_URL}/_lockhub/images/brands/")
                        for url in urls), sorted(urls)
