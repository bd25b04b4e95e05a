"""The official SDK lists the seeded sandbox locks."""

from seam import Seam


def test_sdk_lists_seeded_devices_of_several_brands(seam: Seam) -> None:
    devices = seam.devices.list()
    manufacturers = {d.properties.manufacturer for d in devices}
    assert {"august", "schlage", "ttlock", "wyze", "yale", "kwikset", "igloohome", "nuki",
            "smartthings"} <= manufacturers
