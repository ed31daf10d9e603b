// CONNECT: identify the client, authenticate, take over or create its session, answer CONNACK,
// then resend what the session still owes.

import type { ConnackPacket, ConnectPacket, Properties } from '../../protocol/packets.js';
import { ConnectReturnCode, ReasonCode } from '../../protocol/reason-codes.js';
import { isValidTopicName } from '../../topics/validate.js';
import type { Client } from '../client.js';
import { connackProperties } from '../options.js';
import { Message } from '../message.js';
import { NEVER_EXPIRES } from '../session.js';

export function handleConnect(client: Client, packet: ConnectPacket): void {
  const broker = client.broker;
  const caps = broker.caps;
  const v5 = packet.protocolVersion === 5;
  client.protocolVersion = packet.protocolVersion;
  const props = packet.properties ?? {};

  const refuse = (v3Code: number, v5Code: number, reason?: string): void => {
    const connack: ConnackPacket = { type: 2, sessionPresent: false, reasonCode: v5 ? v5Code : v3Code };
    if (v5 && reason !== undefined && props.requestProblemInformation !== 0) connack.properties = { reasonString: reason };
    client.send(connack);
    broker.logger.debug('connection refused', { clientId: packet.clientId, reasonCode: connack.reasonCode, reason });
    client.refuse();
  };

  let clientId = packet.clientId;
  let assigned = false;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-8] (v3.1.1) an empty id needs clean session 1; 3.1 had no empty ids at all.
    if ((!packet.cleanStart && !v5) || packet.protocolVersion === 3) {
      refuse(ConnectReturnCode.IdentifierRejected, ReasonCode.ClientIdentifierNotValid, 'empty client identifier');
      return;
    }
    clientId = broker.assignClientId();
    assigned = true;
  }

  if (packet.will !== undefined && !isValidTopicName(packet.will.topic)) {
    refuse(ConnectReturnCode.IdentifierRejected, ReasonCode.TopicNameInvalid, 'invalid will topic');
    return;
  }
  if (packet.will !== undefined && packet.will.qos > caps.maximumQoS) {
    refuse(ConnectReturnCode.NotAuthorized, ReasonCode.QoSNotSupported, 'will QoS not supported');
    return;
  }
  if (packet.will !== undefined && packet.will.retain && !caps.retainAvailable) {
    refuse(ConnectReturnCode.NotAuthorized, ReasonCode.RetainNotSupported, 'retain not supported');
    return;
  }

  client.clientId = clientId;
  client.username = packet.username;
  client.info = { clientId, username: packet.username, protocolVersion: packet.protocolVersion, remoteAddress: client.conn.remoteAddress };

  const hooks = broker.hooks;
  if (hooks.preConnect !== undefined) {
    const verdict = hooks.preConnect({ remoteAddress: client.conn.remoteAddress }, packet);
    if (verdict !== true) {
      refuse(ConnectReturnCode.NotAuthorized, typeof verdict === 'number' ? verdict : ReasonCode.NotAuthorized);
      return;
    }
  }
  if (hooks.authenticate !== undefined) {
    const verdict = hooks.authenticate(client.info, packet.username, packet.password);
    if (verdict !== true) {
      refuse(ConnectReturnCode.BadUserNameOrPassword, typeof verdict === 'number' ? verdict : ReasonCode.BadUserNameOrPassword);
      return;
    }
  }

  if (v5) {
    if (props.receiveMaximum !== undefined) client.sendQuota = Math.min(caps.maxInflight, props.receiveMaximum);
    if (props.maximumPacketSize !== undefined) client.maxOutgoingPacketSize = props.maximumPacketSize;
    if (props.requestProblemInformation === 0) client.problemInformation = false;
  }

  // 3.1.1 clean session 0 keeps the session for ever; 5.0 says how long in the packet.
  let expiryInterval = v5 ? (props.sessionExpiryInterval ?? 0) : packet.cleanStart ? 0 : NEVER_EXPIRES;
  if (v5 && expiryInterval > caps.maxSessionExpiryInterval) expiryInterval = caps.maxSessionExpiryInterval;

  const { session, sessionPresent } = broker.openSession(client, packet.cleanStart, expiryInterval);

  if (packet.will !== undefined) {
    const w = packet.will;
    const willProps: Properties | undefined = w.properties !== undefined ? { ...w.properties } : undefined;
    let delay = 0;
    if (willProps !== undefined) {
      // The delay is the broker's business; it is not forwarded with the will.
      delay = willProps.willDelayInterval ?? 0;
      delete willProps.willDelayInterval;
    }
    // Message expiry of a will counts from when it is published (Broker.publishWill).
    const message = new Message(w.topic, w.payload, w.qos, w.retain, willProps, undefined, clientId).own();
    client.will = { message, delay };
  }

  let keepAlive = packet.keepAlive;
  const connack: ConnackPacket = { type: 2, sessionPresent, reasonCode: 0 };
  if (v5) {
    const p = connackProperties(caps);
    if (assigned) p.assignedClientIdentifier = clientId;
    if (caps.maxKeepAlive > 0 && (keepAlive === 0 || keepAlive > caps.maxKeepAlive)) {
      keepAlive = caps.maxKeepAlive;
      p.serverKeepAlive = keepAlive;
    }
    if (props.sessionExpiryInterval !== undefined && expiryInterval !== props.sessionExpiryInterval) p.sessionExpiryInterval = expiryInterval;
    if (props.requestResponseInformation === 1 && caps.responseInformation !== undefined) p.responseInformation = caps.responseInformation;
    if (Object.keys(p).length > 0) connack.properties = p;
  }
  client.state = 'connected';
  client.startKeepAlive(keepAlive);
  broker.logger.debug('client connected', { clientId, protocolVersion: packet.protocolVersion, sessionPresent });
  // CONNACK only once the session's new state is durable; then what the session still owes.
  broker.whenDurable(() => {
    if (!client.connected) return;
    client.send(connack);
    session.resendInflight(client);
    session.drain();
  });
}
