# coding=utf8
# The seed's subscriber (MQTT introduction (8): retained messages and last will), in Python 3.
# MIDGE_PORT overrides the broker port (1883) so the tests can run it against any broker.
import os
import paho.mqtt.client as mqtt

def on_connect(client, userdata, flags, rc):
    print("Connected with result code "+str(rc))
    client.subscribe("test/rensanning/#")

def on_message(client, userdata, msg):
    print(msg.topic+" "+str(msg.payload))

client = mqtt.Client()
client.on_connect = on_connect
client.on_message = on_message

client.connect("localhost", int(os.environ.get("MIDGE_PORT", "1883")))
client.loop_forever()
