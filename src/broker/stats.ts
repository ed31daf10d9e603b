// Counters the broker keeps as it works; $SYS topics and metrics read them.

export class BrokerStats {
  connectionsAccepted = 0;
  connectionsRefused = 0;
  messagesReceived = 0;
  messagesSent = 0;
  /** Messages a full session queue could not take. */
  messagesDropped = 0;
  /** Messages skipped for a client whose Maximum Packet Size they exceed. */
  messagesTooLarge = 0;
  willsPublished = 0;
  protocolErrors = 0;
}
