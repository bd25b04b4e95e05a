"""Zigbee locks through Zigbee2MQTT, over the user's MQTT broker."""

from lockhub.providers.zigbee2mqtt.provider import Zigbee2MQTTProvider

__all__ = ["Zigbee2MQTTProvider"]
