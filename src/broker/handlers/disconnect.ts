// DISCONNECT from a client: a clean goodbye, so the will is discarded
// ([MQTT-3.1.2-10] [MQTT-3.14.4-3] (v3.1.1)); a 5.0 client keeps it with any reason but 0x00.

import type { DisconnectPacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { Client } from '../client.js';
import { NEVER_EXPIRES } from '../session.js';

export function handleDisconnect(client: Client, packet: DisconnectPacket): void {
  const session = client.session!;
  if (client.protocolVersion === 5) {
    const expiry = packet.properties?.sessionExpiryInterval;
    if (expiry !== undefined) {
      // 5.0: a session that was to end with the connection may not be made to outlive it now.
      if (session.expiryInterval === 0 && expiry !== 0) {
        client.disconnect(ReasonCode.ProtocolError, 'session expiry set on DISCONNECT after 0 at CONNECT');
        return;
      }
      client.broker.setSessionExpiry(session, Math.min(expiry, client.broker.caps.maxSessionExpiryInterval, NEVER_EXPIRES));
    }
  }
  // 5.0: only reason 0x00 deletes the will ([MQTT-3.1.2-10] (v5)); 0x04 asks for it, and a
  // failure reason is no clean goodbye either.
  const withWill = client.protocolVersion === 5 && (packet.reasonCode ?? 0) !== ReasonCode.NormalDisconnection;
  if (!withWill) client.will = undefined;
  client.teardown(withWill);
  client.conn.end();
}
