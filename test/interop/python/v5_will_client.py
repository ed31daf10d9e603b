"""paho-mqtt MQTT 5.0 client with a will (Will Delay Interval and other will properties), which
connects, prints "connected", and then vanishes without DISCONNECT (the process exits at once,
the kernel closes the socket)."""

import argparse
import os

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from v5_common import HOST, PORT, connect_properties, new_client, say

parser = argparse.ArgumentParser()
parser.add_argument("--client-id", required=True)
parser.add_argument("--will-topic", required=True)
parser.add_argument("--will-payload", default="gone")
parser.add_argument("--will-delay", type=int, default=0)
parser.add_argument("--session-expiry", type=int, default=0)
args = parser.parse_args()

client = new_client(args.client_id)
will_props = Properties(PacketTypes.WILLMESSAGE)
will_props.WillDelayInterval = args.will_delay
will_props.ContentType = "text/plain"
will_props.UserProperty = ("origin", "paho")
client.will_set(args.will_topic, args.will_payload, qos=1, retain=False, properties=will_props)


def on_connect(_c, _userdata, _flags, reason, _properties):
    say("connected", reason.value)
    os._exit(0)


client.on_connect = on_connect
client.connect(HOST, PORT, keepalive=30, clean_start=True, properties=connect_properties(args.session_expiry))
client.loop_forever()
