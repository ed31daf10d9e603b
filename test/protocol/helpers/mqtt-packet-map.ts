// Translation between Midge's packet objects and mqtt-packet's, for the differential tests.
// The two differ in names (messageId/packetId, granted/reasonCodes, clean/cleanStart, ...) and in
// a few shapes: mqtt-packet keeps user properties as a map of name to value(s), the 0/1 "byte"
// properties as booleans, and a single subscription identifier as a number.
import type mqtt from 'mqtt-packet';
import type { Packet, Properties, ProtocolVersion, UserProperty } from '../../../src/protocol/index.js';

type Ref = Record<string, unknown>;

const CMD = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe',
  'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'] as const;

/** Properties that mqtt-packet reads and writes as booleans. */
const BOOLEAN = new Set(['payloadFormatIndicator', 'requestProblemInformation', 'requestResponseInformation',
  'retainAvailable', 'wildcardSubscriptionAvailable', 'subscriptionIdentifierAvailable', 'sharedSubscriptionAvailable']);
/** Names that differ. */
const TO_REF_NAME: Record<string, string> = {
  subscriptionIdentifiers: 'subscriptionIdentifier',
  subscriptionIdentifierAvailable: 'subscriptionIdentifiersAvailable',
};
const FROM_REF_NAME: Record<string, string> = Object.fromEntries(Object.entries(TO_REF_NAME).map(([a, b]) => [b, a]));

/**
 * User properties sorted by name, values of one name kept in order: all that mqtt-packet's map
 * keeps (a JavaScript object puts integer-like keys first, whatever the insertion order).
 * Applied to both sides before comparing.
 */
export function groupUserProperties(pairs: UserProperty[]): UserProperty[] {
  return [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function propertiesToRef(props: Properties | undefined): Ref | undefined {
  if (props === undefined) return undefined;
  const out: Ref = {};
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined) continue;
    const refName = TO_REF_NAME[name] ?? name;
    if (name === 'userProperties') {
      const map: Record<string, string | string[]> = Object.create(null);
      for (const [k, v] of value as UserProperty[]) {
        const old = map[k];
        map[k] = old === undefined ? v : Array.isArray(old) ? [...old, v] : [old, v];
      }
      out[refName] = map;
    } else if (name === 'subscriptionIdentifiers') {
      const ids = value as number[];
      out[refName] = ids.length === 1 ? ids[0] : ids;
    } else if (BOOLEAN.has(name)) {
      out[refName] = value === 1;
    } else {
      out[refName] = value;
    }
  }
  return out;
}

function propertiesFromRef(props: unknown): Properties | undefined {
  if (props === undefined || props === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [refName, value] of Object.entries(props as Ref)) {
    const name = FROM_REF_NAME[refName] ?? refName;
    if (name === 'userProperties') {
      const pairs: UserProperty[] = [];
      for (const [k, v] of Object.entries(value as Record<string, string | string[]>)) {
        for (const item of Array.isArray(v) ? v : [v]) pairs.push([k, item]);
      }
      out[name] = pairs;
    } else if (name === 'subscriptionIdentifiers') {
      out[name] = Array.isArray(value) ? value : [value];
    } else if (BOOLEAN.has(name)) {
      out[name] = value ? 1 : 0;
    } else {
      out[name] = value;
    }
  }
  return Object.keys(out).length === 0 ? undefined : (out as Properties);
}

const withProps = (obj: Ref, props: Properties | undefined, version: ProtocolVersion): Ref => {
  if (version === 5 && props !== undefined) obj.properties = propertiesToRef(props);
  return obj;
};

/** Midge packet to the object mqtt.generate takes. */
export function toReference(p: Packet, version: ProtocolVersion): mqtt.Packet {
  const cmd = CMD[p.type];
  let ref: Ref;
  switch (p.type) {
    case 1:
      ref = {
        cmd, protocolId: p.protocolName, protocolVersion: p.protocolVersion, clean: p.cleanStart,
        keepalive: p.keepAlive, clientId: p.clientId,
      };
      if (p.will) {
        ref.will = withProps({ topic: p.will.topic, payload: p.will.payload, qos: p.will.qos, retain: p.will.retain },
          p.will.properties, version);
      }
      if (p.username !== undefined) ref.username = p.username;
      if (p.password !== undefined) ref.password = p.password;
      withProps(ref, p.properties, version);
      break;
    case 2:
      ref = { cmd, sessionPresent: p.sessionPresent, [version === 5 ? 'reasonCode' : 'returnCode']: p.reasonCode };
      withProps(ref, p.properties, version);
      break;
    case 3:
      ref = { cmd, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup };
      if (p.qos > 0) ref.messageId = p.packetId;
      withProps(ref, p.properties, version);
      break;
    case 4: case 5: case 6: case 7:
      ref = { cmd, messageId: p.packetId, reasonCode: p.reasonCode ?? 0 };
      withProps(ref, p.properties, version);
      break;
    case 8:
      ref = {
        cmd, messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) => ({
          topic: s.topicFilter, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling,
        })),
      };
      withProps(ref, p.properties, version);
      break;
    case 9:
      ref = { cmd, messageId: p.packetId, granted: p.reasonCodes };
      withProps(ref, p.properties, version);
      break;
    case 10:
      ref = { cmd, messageId: p.packetId, unsubscriptions: p.topicFilters };
      withProps(ref, p.properties, version);
      break;
    case 11:
      ref = { cmd, messageId: p.packetId };
      if (version === 5) ref.granted = p.reasonCodes;
      withProps(ref, p.properties, version);
      break;
    case 12: case 13:
      ref = { cmd };
      break;
    case 14: case 15:
      ref = { cmd, reasonCode: p.reasonCode ?? 0 };
      withProps(ref, p.properties, version);
      break;
  }
  return ref as unknown as mqtt.Packet;
}

/** An object from mqtt-packet's parser to the Midge packet the decoder should have produced. */
export function fromReference(obj: mqtt.Packet, version: ProtocolVersion): Packet {
  const r = obj as unknown as Ref;
  const type = CMD.indexOf(r.cmd as (typeof CMD)[number]);
  const props = version === 5 ? propertiesFromRef(r.properties) : undefined;
  const out: Ref = { type };
  switch (type) {
    case 1: {
      Object.assign(out, {
        protocolName: r.protocolId, protocolVersion: r.protocolVersion, cleanStart: r.clean,
        keepAlive: r.keepalive, clientId: r.clientId,
      });
      const will = r.will as Ref | undefined;
      if (will) {
        const w: Ref = { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain };
        const wp = version === 5 ? propertiesFromRef(will.properties) : undefined;
        if (wp) w.properties = wp;
        out.will = w;
      }
      if (r.username !== undefined) out.username = r.username;
      if (r.password !== undefined) out.password = r.password;
      break;
    }
    case 2:
      Object.assign(out, { sessionPresent: r.sessionPresent, reasonCode: version === 5 ? r.reasonCode : r.returnCode });
      break;
    case 3:
      Object.assign(out, { topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, dup: r.dup });
      if ((r.qos as number) > 0) out.packetId = r.messageId;
      break;
    case 4: case 5: case 6: case 7:
      out.packetId = r.messageId;
      if (version === 5) out.reasonCode = r.reasonCode;
      break;
    case 8:
      out.packetId = r.messageId;
      out.subscriptions = (r.subscriptions as Ref[]).map((s) => ({
        topicFilter: s.topic, qos: s.qos, noLocal: s.nl ?? false, retainAsPublished: s.rap ?? false, retainHandling: s.rh ?? 0,
      }));
      break;
    case 9:
      out.packetId = r.messageId;
      out.reasonCodes = r.granted;
      break;
    case 10:
      out.packetId = r.messageId;
      out.topicFilters = r.unsubscriptions;
      break;
    case 11:
      out.packetId = r.messageId;
      if (version === 5) out.reasonCodes = r.granted;
      break;
    case 14: case 15:
      if (version === 5) out.reasonCode = r.reasonCode;
      break;
  }
  if (props) out.properties = props;
  return out as unknown as Packet;
}

/** `p` with its user properties (and its will's) grouped by name, for comparison. */
export function normalize(p: Packet): Packet {
  const fix = (props: Properties | undefined): Properties | undefined =>
    props?.userProperties ? { ...props, userProperties: groupUserProperties(props.userProperties) } : props;
  const copy = { ...p } as Packet & { properties?: Properties };
  if ('properties' in copy && copy.properties) copy.properties = fix(copy.properties);
  if (copy.type === 1 && copy.will?.properties) copy.will = { ...copy.will, properties: fix(copy.will.properties) };
  return copy;
}
