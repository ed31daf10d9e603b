"""paho-mqtt MQTT 5.0 publisher: publishes the messages given as JSON objects
({"topic", "payload", "qos", "retain", "expiry", "alias"}), waits for each to complete, prints
"published <n>" and leaves with DISCONNECT. An empty "topic" with an "alias" uses the topic
alias set by an earlier message."""

import argparse
import json
import threading

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from v5_common import HOST, PORT, fail, new_client, say

parser = argparse.ArgumentParser()
parser.add_argument("--client-id", default="")
parser.add_argument("messages", nargs="+", help="JSON objects")
args = parser.parse_args()

client = new_client(args.client_id)
connected = threading.Event()
server_alias_maximum = [0]


def on_connect(_c, _userdata, _flags, reason, properties):
    if reason.value != 0:
        fail("refused %s" % reason)
    server_alias_maximum[0] = getattr(properties, "TopicAliasMaximum", 0)
    connected.set()


client.on_connect = on_connect
client.connect(HOST, PORT, keepalive=30, clean_start=True)
client.loop_start()
if not connected.wait(5):
    fail("no CONNACK")
say("connected topic_alias_maximum=%d" % server_alias_maximum[0])

for n, text in enumerate(args.messages, start=1):
    spec = json.loads(text)
    props = Properties(PacketTypes.PUBLISH)
    if "expiry" in spec:
        props.MessageExpiryInterval = spec["expiry"]
    if "alias" in spec:
        props.TopicAlias = spec["alias"]
    info = client.publish(spec["topic"], spec.get("payload", ""), qos=spec.get("qos", 1), retain=spec.get("retain", False), properties=props)
    info.wait_for_publish(5)
    if not info.is_published():
        fail("message %d not acknowledged" % n)
    say("published", n)

client.disconnect()
client.loop_stop()
say("done")
