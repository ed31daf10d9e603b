# coding=utf8
# The seed's publisher, in Python 3: it sets a will, publishes one message and exits without
# DISCONNECT, so the broker publishes the will. Un-comment client.disconnect() and no will is sent.
# MIDGE_PORT overrides the broker port (1883) so the tests can run it against any broker.
import os
import paho.mqtt.client as mqtt
import time

def on_connect(client, userdata, flags, rc):
    print("Connected with result code "+str(rc))

client = mqtt.Client()
client.on_connect = on_connect
client.will_set('test/rensanning/will', 'Last will message', 0, False)
client.connect("localhost", int(os.environ.get("MIDGE_PORT", "1883")))

client.loop_start()

msg = "test LWT " +time.ctime()
client.publish("test/rensanning/time", msg, 0)
print("message published")

#client.disconnect()

client.loop_stop()

print("done.")
