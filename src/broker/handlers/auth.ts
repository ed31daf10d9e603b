// AUTH (5.0 enhanced authentication): continues the exchange a CONNECT began, or
// re-authenticates a connected client (reason 0x19) with the method it connected with.

import type { AuthPacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { Client } from '../client.js';
import { continueConnectAuth } from './connect.js';

export function handleAuth(client: Client, packet: AuthPacket): void {
  const auth = client.auth;
  const props = packet.properties ?? {};
  const reasonCode = packet.reasonCode ?? 0;
  if (auth === undefined || props.authenticationMethod !== auth.method) {
    // [MQTT-4.12.0-1]-style misuse: AUTH without enhanced authentication, or another method.
    client.disconnect(ReasonCode.ProtocolError, 'AUTH without a matching authentication method');
    return;
  }
  if (!client.connected) {
    if (reasonCode !== ReasonCode.ContinueAuthentication) {
      client.disconnect(ReasonCode.ProtocolError, 'unexpected AUTH reason during CONNECT');
      return;
    }
    continueConnectAuth(client, auth.exchange.next(props.authenticationData));
    return;
  }
  if (reasonCode === ReasonCode.ReAuthenticate) {
    const authenticator = client.broker.authenticators.get(auth.method)!;
    auth.exchange = authenticator.begin();
  } else if (reasonCode !== ReasonCode.ContinueAuthentication || auth.done) {
    client.disconnect(ReasonCode.ProtocolError, 'unexpected AUTH reason');
    return;
  }
  auth.done = false;
  const result = auth.exchange.next(props.authenticationData);
  switch (result.kind) {
    case 'continue':
      client.send({ type: 15, reasonCode: ReasonCode.ContinueAuthentication, properties: { authenticationMethod: auth.method, authenticationData: result.data } });
      return;
    case 'success': {
      auth.done = true;
      if (result.username !== undefined) client.setUsername(result.username);
      const properties = result.data !== undefined ? { authenticationMethod: auth.method, authenticationData: result.data } : { authenticationMethod: auth.method };
      client.send({ type: 15, reasonCode: ReasonCode.Success, properties });
      return;
    }
    case 'failure':
      client.disconnect(result.reasonCode, result.reason);
      return;
  }
}
