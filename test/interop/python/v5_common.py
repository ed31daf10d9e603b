"""Shared bits of the paho-mqtt (MQTT 5.0) interop scripts: the broker address from the
environment, and printing one line per event, flushed, for the Node test to wait on."""

import os
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

HOST = os.environ.get("MIDGE_HOST", "127.0.0.1")
PORT = int(os.environ["MIDGE_PORT"])


def say(*parts):
    print(" ".join(str(p) for p in parts), flush=True)


def new_client(client_id):
    return mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)


def connect_properties(session_expiry=None, topic_alias_maximum=None):
    props = Properties(PacketTypes.CONNECT)
    if session_expiry is not None:
        props.SessionExpiryInterval = session_expiry
    if topic_alias_maximum is not None:
        props.TopicAliasMaximum = topic_alias_maximum
    return props


def fail(message):
    say("error", message)
    sys.exit(2)
