/*
 * A scripted MQTT client on Eclipse Paho C's synchronous API (libpaho-mqtt3cs), for the interop
 * tests in test/interop/paho-c.test.ts: a real third-party client library, unchanged, speaking
 * MQTT 3.1, 3.1.1 or 5.0 over TCP, TLS or WebSocket.
 *
 * Each argument is one step, run in order: a verb and key=value fields.
 *   connect uri=U v=31|311|5 id=ID [clean=0|1] [expiry=S] [ca=FILE]
 *           [will=TOPIC] [willmsg=TEXT] [willqos=Q] [willretain=0|1]
 *   sub filter=F qos=Q [nolocal=1] [rap=1] [rh=0|1|2]
 *   pub topic=T qos=Q [retain=0|1] [payload=TEXT] [uprop=K:V] [expiry=S] [response=T] [corr=D]
 *   recv [n=N] [ms=T]      N messages, each within T ms
 *   none [ms=T]            no message within T ms
 *   disconnect [rc=R]
 *   crash                  ends the process without DISCONNECT (the kernel closes the socket)
 * Each step prints one line per outcome (see the verbs below); the first failure prints
 * "error <step> rc=<code>" and exits 1, so a test sees both what happened and where it stopped.
 * Payloads and fields are plain text without spaces, which is all the tests use.
 */
#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static MQTTClient client;
static int created = 0;
static int version = MQTTVERSION_3_1_1;

/* The value of `key` among the step's fields, or `fallback`. */
static const char *field(int argc, char **argv, const char *key, const char *fallback) {
  size_t n = strlen(key);
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return fallback;
}

static int number(int argc, char **argv, const char *key, int fallback) {
  const char *v = field(argc, argv, key, NULL);
  return v == NULL ? fallback : atoi(v);
}

static void fail(const char *step, int rc) {
  printf("error %s rc=%d\n", step, rc);
  fflush(stdout);
  exit(1);
}

/* Adds a binary-data or string property (response topic, correlation data). */
static void add_data(MQTTProperties *props, int id, const char *value) {
  MQTTProperty p;
  memset(&p, 0, sizeof p);
  p.identifier = id;
  p.value.data.data = (char *)value;
  p.value.data.len = (int)strlen(value);
  MQTTProperties_add(props, &p);
}

static void add_int(MQTTProperties *props, int id, int value) {
  MQTTProperty p;
  memset(&p, 0, sizeof p);
  p.identifier = id;
  p.value.integer4 = (unsigned int)value;
  MQTTProperties_add(props, &p);
}

static void connect_step(int argc, char **argv) {
  const char *uri = field(argc, argv, "uri", "tcp://127.0.0.1:1883");
  const char *v = field(argc, argv, "v", "311");
  version = strcmp(v, "5") == 0 ? MQTTVERSION_5 : strcmp(v, "31") == 0 ? MQTTVERSION_3_1 : MQTTVERSION_3_1_1;
  if (!created) {
    MQTTClient_createOptions create = MQTTClient_createOptions_initializer;
    create.MQTTVersion = version;
    int rc = MQTTClient_createWithOptions(&client, uri, field(argc, argv, "id", "paho-c"), MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
    if (rc != MQTTCLIENT_SUCCESS) fail("create", rc);
    created = 1;
  }
  MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
  MQTTClient_connectOptions opts5 = MQTTClient_connectOptions_initializer5;
  if (version == MQTTVERSION_5) opts = opts5;
  opts.MQTTVersion = version;
  opts.keepAliveInterval = 20;
  int clean = number(argc, argv, "clean", 1);
  if (version == MQTTVERSION_5) opts.cleanstart = clean;
  else opts.cleansession = clean;

  MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
  if (field(argc, argv, "will", NULL) != NULL) {
    will.topicName = field(argc, argv, "will", NULL);
    will.message = field(argc, argv, "willmsg", "");
    will.qos = number(argc, argv, "willqos", 0);
    will.retained = number(argc, argv, "willretain", 0);
    opts.will = &will;
  }
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  if (field(argc, argv, "ca", NULL) != NULL) {
    ssl.trustStore = field(argc, argv, "ca", NULL);
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    opts.ssl = &ssl;
  }

  if (version == MQTTVERSION_5) {
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperties willProps = MQTTProperties_initializer;
    if (field(argc, argv, "expiry", NULL) != NULL) {
      add_int(&props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, number(argc, argv, "expiry", 0));
    }
    MQTTResponse r = MQTTClient_connect5(client, &opts, &props, &willProps);
    MQTTProperties_free(&props);
    if (r.reasonCode != MQTTREASONCODE_SUCCESS) fail("connect", r.reasonCode);
    /* Paho C's MQTTClient fills returned.sessionPresent for 3.1.1 only (MQTTClient.c sets it when
     * the version is 4), so a 5.0 script shows a resumed session by what it receives. */
    printf("connected rc=%d session=-\n", r.reasonCode);
    MQTTResponse_free(r);
  } else {
    int rc = MQTTClient_connect(client, &opts);
    if (rc != MQTTCLIENT_SUCCESS) fail("connect", rc);
    /* MQTT 3.1's CONNACK has no Session Present flag. */
    if (version == MQTTVERSION_3_1) printf("connected rc=0 session=-\n");
    else printf("connected rc=0 session=%d\n", opts.returned.sessionPresent);
  }
}

static void sub_step(int argc, char **argv) {
  const char *filter = field(argc, argv, "filter", "#");
  int qos = number(argc, argv, "qos", 0);
  if (version == MQTTVERSION_5) {
    MQTTSubscribe_options o = MQTTSubscribe_options_initializer;
    o.noLocal = (unsigned char)number(argc, argv, "nolocal", 0);
    o.retainAsPublished = (unsigned char)number(argc, argv, "rap", 0);
    o.retainHandling = (unsigned char)number(argc, argv, "rh", 0);
    MQTTResponse r = MQTTClient_subscribe5(client, filter, qos, &o, NULL);
    /* A SUBACK reason code under 0x80 is the granted QoS. */
    if (r.reasonCode >= 0x80 || r.reasonCode < 0) fail("sub", r.reasonCode);
    printf("subscribed granted=%d\n", r.reasonCode);
    MQTTResponse_free(r);
  } else {
    /* subscribeMany reports the granted QoS (or 0x80) in place of the one asked for. */
    char *filters[1] = {(char *)filter};
    int granted[1] = {qos};
    int rc = MQTTClient_subscribeMany(client, 1, filters, granted);
    if (rc != MQTTCLIENT_SUCCESS) fail("sub", rc);
    printf("subscribed granted=%d\n", granted[0]);
  }
}

static void pub_step(int argc, char **argv) {
  const char *topic = field(argc, argv, "topic", "paho/c");
  const char *payload = field(argc, argv, "payload", "");
  MQTTClient_message m = MQTTClient_message_initializer;
  m.payload = (void *)payload;
  m.payloadlen = (int)strlen(payload);
  m.qos = number(argc, argv, "qos", 0);
  m.retained = number(argc, argv, "retain", 0);
  MQTTClient_deliveryToken token;
  int rc;
  if (version == MQTTVERSION_5) {
    const char *uprop = field(argc, argv, "uprop", NULL);
    char key[128] = {0};
    if (uprop != NULL && strchr(uprop, ':') != NULL && strchr(uprop, ':') - uprop < (long)sizeof key) {
      MQTTProperty p;
      memset(&p, 0, sizeof p);
      p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
      memcpy(key, uprop, (size_t)(strchr(uprop, ':') - uprop));
      p.value.data.data = key;
      p.value.data.len = (int)strlen(key);
      p.value.value.data = strchr(uprop, ':') + 1;
      p.value.value.len = (int)strlen(p.value.value.data);
      MQTTProperties_add(&m.properties, &p);
    }
    if (field(argc, argv, "expiry", NULL) != NULL) {
      add_int(&m.properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, number(argc, argv, "expiry", 0));
    }
    if (field(argc, argv, "response", NULL) != NULL) add_data(&m.properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, field(argc, argv, "response", ""));
    if (field(argc, argv, "corr", NULL) != NULL) add_data(&m.properties, MQTTPROPERTY_CODE_CORRELATION_DATA, field(argc, argv, "corr", ""));
    MQTTResponse r = MQTTClient_publishMessage5(client, topic, &m, &token);
    MQTTProperties_free(&m.properties);
    rc = r.reasonCode;
    MQTTResponse_free(r);
    if (rc != MQTTREASONCODE_SUCCESS) fail("pub", rc);
  } else {
    rc = MQTTClient_publishMessage(client, topic, &m, &token);
    if (rc != MQTTCLIENT_SUCCESS) fail("pub", rc);
  }
  /* QoS 1 and 2 complete with the PUBACK or PUBCOMP. */
  rc = MQTTClient_waitForCompletion(client, token, 5000);
  if (rc != MQTTCLIENT_SUCCESS) fail("pub-complete", rc);
  printf("published\n");
}

/* Prints a property of a received 5.0 message, as key=value with no spaces. */
static void print_props(MQTTProperties *props) {
  for (int i = 0; i < props->count; i++) {
    MQTTProperty *p = &props->array[i];
    switch (p->identifier) {
      case MQTTPROPERTY_CODE_USER_PROPERTY:
        printf(" uprop=%.*s:%.*s", p->value.data.len, p->value.data.data, p->value.value.len, p->value.value.data);
        break;
      case MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL:
        printf(" expiry=%u", p->value.integer4);
        break;
      case MQTTPROPERTY_CODE_RESPONSE_TOPIC:
        printf(" response=%.*s", p->value.data.len, p->value.data.data);
        break;
      case MQTTPROPERTY_CODE_CORRELATION_DATA:
        printf(" corr=%.*s", p->value.data.len, p->value.data.data);
        break;
      case MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER:
        printf(" subid=%u", p->value.integer4);
        break;
      default:
        printf(" prop%d", p->identifier);
    }
  }
}

/* Waits up to `ms` for one message; prints it and returns 1, or returns 0 on timeout. */
static int receive_one(int ms) {
  char *topic = NULL;
  int topicLen = 0;
  MQTTClient_message *m = NULL;
  int rc = MQTTClient_receive(client, &topic, &topicLen, &m, (unsigned long)ms);
  /* With a timeout and no message, Paho returns success (or TOPICNAME_TRUNCATED) and m NULL. */
  if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) fail("recv", rc);
  if (m == NULL) return 0;
  printf("msg topic=%.*s qos=%d retained=%d dup=%d payload=%.*s", topicLen > 0 ? topicLen : (int)strlen(topic), topic, m->qos, m->retained, m->dup,
         m->payloadlen, (char *)m->payload);
  if (version == MQTTVERSION_5) print_props(&m->properties);
  printf("\n");
  fflush(stdout);
  MQTTClient_freeMessage(&m);
  MQTTClient_free(topic);
  return 1;
}

static void recv_step(int argc, char **argv) {
  int n = number(argc, argv, "n", 1);
  int ms = number(argc, argv, "ms", 5000);
  for (int i = 0; i < n; i++) {
    if (!receive_one(ms)) {
      printf("timeout after %d\n", i);
      fflush(stdout);
      exit(1);
    }
  }
}

static void none_step(int argc, char **argv) {
  if (receive_one(number(argc, argv, "ms", 500))) {
    printf("error none: a message arrived\n");
    fflush(stdout);
    exit(1);
  }
  printf("none\n");
}

static void disconnect_step(int argc, char **argv) {
  if (version == MQTTVERSION_5) {
    int rc = MQTTClient_disconnect5(client, 1000, (enum MQTTReasonCodes)number(argc, argv, "rc", 0), NULL);
    if (rc != MQTTCLIENT_SUCCESS) fail("disconnect", rc);
  } else {
    int rc = MQTTClient_disconnect(client, 1000);
    if (rc != MQTTCLIENT_SUCCESS) fail("disconnect", rc);
  }
  printf("disconnected\n");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    /* Split the step into words in place: the verb, then its key=value fields. */
    char *words[32];
    int count = 0;
    for (char *w = strtok(argv[i], " "); w != NULL && count < 32; w = strtok(NULL, " ")) words[count++] = w;
    if (count == 0) continue;
    const char *verb = words[0];
    if (strcmp(verb, "connect") == 0) connect_step(count - 1, words + 1);
    else if (strcmp(verb, "sub") == 0) sub_step(count - 1, words + 1);
    else if (strcmp(verb, "pub") == 0) pub_step(count - 1, words + 1);
    else if (strcmp(verb, "recv") == 0) recv_step(count - 1, words + 1);
    else if (strcmp(verb, "none") == 0) none_step(count - 1, words + 1);
    else if (strcmp(verb, "disconnect") == 0) disconnect_step(count - 1, words + 1);
    else if (strcmp(verb, "crash") == 0) {
      printf("crashing\n");
      fflush(stdout);
      _exit(0);
    } else {
      printf("error unknown step %s\n", verb);
      return 2;
    }
  }
  if (created) MQTTClient_destroy(&client);
  return 0;
}
