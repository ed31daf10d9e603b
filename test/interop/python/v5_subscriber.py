"""paho-mqtt MQTT 5.0 subscriber: subscribes to one filter and prints every message.

Lines: "connected <reason> session_present=<0|1>", "subscribed <granted>", then for each message
"message <topic> <payload> qos=<q> retain=<0|1> expiry=<seconds or -> alias=<alias or ->".
With --leave it disconnects (reason 0x00) right after the SUBACK and exits; with --count N it
disconnects after N messages; otherwise it runs until killed.
"""

import argparse

from paho.mqtt.subscribeoptions import SubscribeOptions

from v5_common import HOST, PORT, connect_properties, fail, new_client, say

parser = argparse.ArgumentParser()
parser.add_argument("--client-id", default="")
parser.add_argument("--filter", required=True)
parser.add_argument("--qos", type=int, default=1)
parser.add_argument("--session-expiry", type=int)
parser.add_argument("--resume", action="store_true", help="clean_start=False")
parser.add_argument("--leave", action="store_true")
parser.add_argument("--count", type=int, default=0)
args = parser.parse_args()

client = new_client(args.client_id)
received = 0


def on_connect(c, _userdata, flags, reason, _properties):
    say("connected", reason.getName().replace(" ", "_"), "session_present=%d" % flags["session present"])
    if reason.value != 0:
        fail("refused")
    if args.leave and args.resume:
        return
    c.subscribe(args.filter, options=SubscribeOptions(qos=args.qos))


def on_subscribe(c, _userdata, _mid, reason_codes, _properties):
    say("subscribed", ",".join(str(r.value) for r in reason_codes))
    if args.leave:
        c.disconnect()


def on_message(c, _userdata, msg):
    global received
    props = msg.properties
    expiry = getattr(props, "MessageExpiryInterval", None) if props is not None else None
    alias = getattr(props, "TopicAlias", None) if props is not None else None
    say(
        "message",
        msg.topic if msg.topic else "<empty>",
        msg.payload.decode("utf-8", "replace"),
        "qos=%d" % msg.qos,
        "retain=%d" % int(msg.retain),
        "expiry=%s" % ("-" if expiry is None else expiry),
        "alias=%s" % ("-" if alias is None else alias),
    )
    received += 1
    if args.count and received >= args.count:
        c.disconnect()


def on_disconnect(_c, _userdata, reason, _properties=None):
    say("disconnected", reason)


client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.on_disconnect = on_disconnect
client.connect(HOST, PORT, keepalive=30, clean_start=not args.resume, properties=connect_properties(args.session_expiry))
client.loop_forever()
say("done")
