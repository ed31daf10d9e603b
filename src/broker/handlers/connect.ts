// CONNECT: identify the client, authenticate (a password hook, or 5.0 enhanced authentication
// that may take several AUTH round trips), take over or create its session, answer CONNACK,
// then resend what the session still owes.

import type { ConnackPacket, ConnectPacket, Properties } from '../../protocol/packets.js';
import { ConnectReturnCode, ReasonCode } from '../../protocol/reason-codes.js';
import { isValidTopicName } from '../../topics/validate.js';
import type { AuthResult } from '../../auth/authenticator.js';
import type { Client } from '../client.js';
import { connackProperties } from '../options.js';
import { Message } from '../message.js';
import { NEVER_EXPIRES } from '../session.js';
import { MAX_PACKET_SIZE } from '../../protocol/fixed-header.js';

/** The 3.1.1 return code closest to a 5.0 reason code, for clients that only know 3.1.1. */
function v3CodeFor(reasonCode: number): number {
  switch (reasonCode) {
    case ReasonCode.UnsupportedProtocolVersion:
      return ConnectReturnCode.UnacceptableProtocolVersion;
    case ReasonCode.ClientIdentifierNotValid:
      return ConnectReturnCode.IdentifierRejected;
    case ReasonCode.BadUserNameOrPassword:
    case ReasonCode.BadAuthenticationMethod:
      return ConnectReturnCode.BadUserNameOrPassword;
    case ReasonCode.ServerUnavailable:
    case ReasonCode.ServerBusy:
    case ReasonCode.UseAnotherServer:
    case ReasonCode.ServerMoved:
      return ConnectReturnCode.ServerUnavailable;
    default:
      return ConnectReturnCode.NotAuthorized;
  }
}

/** Refuses a CONNECT: CONNACK with the reason ([MQTT-3.2.2-4] (v3.1.1) session present 0), then close. */
export function refuseConnect(client: Client, packet: ConnectPacket, reasonCode: number, reason?: string, properties?: Properties): void {
  const v5 = packet.protocolVersion === 5;
  const connack: ConnackPacket = { type: 2, sessionPresent: false, reasonCode: v5 ? reasonCode : v3CodeFor(reasonCode) };
  if (v5) {
    const p: Properties = { ...properties };
    if (reason !== undefined && packet.properties?.requestProblemInformation !== 0) p.reasonString = reason;
    if (Object.keys(p).length > 0) connack.properties = p;
  }
  client.send(connack);
  client.broker.stats.connectionsRefused++;
  client.broker.logger.debug('connection refused', { clientId: packet.clientId, reasonCode: connack.reasonCode, reason });
  client.refuse();
}

export function handleConnect(client: Client, packet: ConnectPacket): void {
  const broker = client.broker;
  const caps = broker.caps;
  const v5 = packet.protocolVersion === 5;
  client.protocolVersion = packet.protocolVersion;
  const props = packet.properties ?? {};
  // Known before any answer, so even a refusing CONNACK respects it ([MQTT-3.2.2-19] (v5)).
  if (v5 && props.maximumPacketSize !== undefined) client.maxOutgoingPacketSize = Math.min(props.maximumPacketSize, MAX_PACKET_SIZE);

  if (caps.redirect !== undefined) {
    refuseConnect(client, packet, caps.redirect.reasonCode, 'use another server', { serverReference: caps.redirect.serverReference });
    return;
  }

  if (packet.clientId.length === 0 && ((!packet.cleanStart && !v5) || packet.protocolVersion === 3)) {
    // [MQTT-3.1.3-8] (v3.1.1) an empty id needs clean session 1; 3.1 had no empty ids at all.
    refuseConnect(client, packet, ReasonCode.ClientIdentifierNotValid, 'empty client identifier');
    return;
  }
  const will = packet.will;
  if (will !== undefined && !isValidTopicName(will.topic)) {
    refuseConnect(client, packet, ReasonCode.TopicNameInvalid, 'invalid will topic');
    return;
  }
  if (will !== undefined && will.qos > caps.maximumQoS) {
    refuseConnect(client, packet, ReasonCode.QoSNotSupported, 'will QoS not supported');
    return;
  }
  if (will !== undefined && will.retain && !caps.retainAvailable) {
    refuseConnect(client, packet, ReasonCode.RetainNotSupported, 'retain not supported');
    return;
  }

  const hooks = broker.hooks;
  if (hooks.preConnect !== undefined) {
    const verdict = hooks.preConnect({ remoteAddress: client.conn.remoteAddress }, packet);
    if (verdict !== true) {
      refuseConnect(client, packet, typeof verdict === 'number' ? verdict : ReasonCode.NotAuthorized, 'refused');
      return;
    }
  }

  if (v5 && props.authenticationMethod !== undefined) {
    const authenticator = broker.authenticators.get(props.authenticationMethod);
    if (authenticator === undefined) {
      refuseConnect(client, packet, ReasonCode.BadAuthenticationMethod, 'unsupported authentication method');
      return;
    }
    client.auth = { method: authenticator.method, exchange: authenticator.begin(), connect: packet };
    continueConnectAuth(client, client.auth.exchange.next(props.authenticationData));
    return;
  }

  if (hooks.authenticate !== undefined) {
    const info = { clientId: packet.clientId, username: packet.username, protocolVersion: packet.protocolVersion, remoteAddress: client.conn.remoteAddress };
    const verdict = hooks.authenticate(info, packet.username, packet.password);
    if (verdict !== true) {
      refuseConnect(client, packet, typeof verdict === 'number' ? verdict : ReasonCode.BadUserNameOrPassword, 'authentication failed');
      return;
    }
  }
  completeConnect(client, packet, undefined);
}

/** One step of enhanced authentication during CONNECT (from CONNECT itself or an AUTH). */
export function continueConnectAuth(client: Client, result: AuthResult): void {
  const auth = client.auth!;
  switch (result.kind) {
    case 'continue':
      client.send({ type: 15, reasonCode: ReasonCode.ContinueAuthentication, properties: { authenticationMethod: auth.method, authenticationData: result.data } });
      return;
    case 'failure':
      client.auth = undefined;
      refuseConnect(client, auth.connect, result.reasonCode, result.reason);
      return;
    case 'success': {
      const connackAuth: Properties = { authenticationMethod: auth.method };
      if (result.data !== undefined) connackAuth.authenticationData = result.data;
      client.auth = { ...auth, done: true };
      completeConnect(client, auth.connect, connackAuth, result.username);
      return;
    }
  }
}

function completeConnect(client: Client, packet: ConnectPacket, authProperties: Properties | undefined, authenticatedUser?: string): void {
  const broker = client.broker;
  const caps = broker.caps;
  const v5 = packet.protocolVersion === 5;
  const props = packet.properties ?? {};

  let clientId = packet.clientId;
  let assigned = false;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-6] (v3.1.1) the broker assigns a unique id and carries on as if it had been sent.
    clientId = broker.assignClientId();
    assigned = true;
  }
  client.clientId = clientId;
  client.username = authenticatedUser ?? packet.username;

  if (v5) {
    // [MQTT-3.3.4-9] (v5) no more unacknowledged than the client's Receive Maximum, retained or not.
    if (props.receiveMaximum !== undefined) {
      client.receiveMaximum = props.receiveMaximum;
      client.sendQuota = Math.min(caps.maxInflight, props.receiveMaximum);
    }
    if (props.maximumPacketSize !== undefined) client.maxOutgoingPacketSize = Math.min(props.maximumPacketSize, MAX_PACKET_SIZE);
    if (props.requestProblemInformation === 0) client.problemInformation = false;
    if (props.topicAliasMaximum !== undefined) client.outboundAliasMaximum = props.topicAliasMaximum;
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
    const p = { ...connackProperties(caps), ...authProperties };
    if (assigned) p.assignedClientIdentifier = clientId;
    if (caps.maxKeepAlive > 0 && (keepAlive === 0 || keepAlive > caps.maxKeepAlive)) {
      keepAlive = caps.maxKeepAlive;
      p.serverKeepAlive = keepAlive;
    }
    if (props.sessionExpiryInterval !== undefined && expiryInterval !== props.sessionExpiryInterval) p.sessionExpiryInterval = expiryInterval;
    if (props.requestResponseInformation === 1 && caps.responseInformation !== undefined) p.responseInformation = caps.responseInformation;
    if (Object.keys(p).length > 0) connack.properties = p;
  }
  client.holdUntilConnack();
  client.state = 'connected';
  client.startKeepAlive(keepAlive);
  broker.logger.debug('client connected', { clientId, protocolVersion: packet.protocolVersion, sessionPresent });
  // CONNACK only once the session's new state is durable; then what the session still owes.
  broker.whenDurable(() => {
    if (!client.connected) return;
    client.sendConnack(connack);
    session.resendInflight(client);
    session.drain();
  });
}
