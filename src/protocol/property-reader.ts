// Reads an MQTT 5 property block (Property Length, then properties) and checks it against the
// property table. The reason codes are the spec's (section 2.2.2.2 and each property's text):
// an identifier unknown or not allowed in this packet, a value of the wrong type, or a block
// overrunning the packet is a Malformed Packet (0x81); a repeated single-valued property or a
// value the spec forbids is a Protocol Error (0x82).

import type { ByteReader } from './byte-reader.js';
import { malformed, protocolError } from './errors.js';
import type { Properties, UserProperty } from './packets.js';
import {
  PROPERTY_BY_ID,
  PropertyType,
  contextName,
  isAllowedIn,
  isRepeatableIn,
  type PropertyContext,
  type PropertyDefinition,
} from './properties.js';

/** Returns undefined for an empty block, so packets without properties carry none. */
export function readProperties(reader: ByteReader, context: PropertyContext): Properties | undefined {
  const length = reader.variableByteInteger();
  if (length === 0) return undefined;
  const end = reader.pos + length;
  if (end > reader.end) throw malformed('the Property Length runs past the end of the packet');
  const packetEnd = reader.end;
  // Scope the reader to the block so that no property value can run past it.
  reader.end = end;
  const properties: Properties = {};
  let seen = 0;
  while (reader.pos < end) {
    const id = reader.byte();
    const def = PROPERTY_BY_ID[id];
    if (def === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
    if (!isAllowedIn(def, context)) throw malformed(`${def.label} is not allowed in ${contextName(context)}`);
    const mask = 1 << def.index;
    if ((seen & mask) !== 0 && !isRepeatableIn(def, context)) {
      throw protocolError(`${def.label} appears more than once in ${contextName(context)}`);
    }
    seen |= mask;
    readValue(reader, def, properties);
  }
  reader.end = packetEnd;
  return properties;
}

function readValue(reader: ByteReader, def: PropertyDefinition, properties: Properties): void {
  const target = properties as Record<string, unknown>;
  switch (def.type) {
    case PropertyType.Byte:
      target[def.name] = checked(def, reader.byte());
      return;
    case PropertyType.TwoByteInteger:
      target[def.name] = checked(def, reader.uint16());
      return;
    case PropertyType.FourByteInteger:
      target[def.name] = checked(def, reader.uint32());
      return;
    case PropertyType.VariableByteInteger: {
      // The only one is Subscription Identifier, kept as a list (PUBLISH may carry several).
      const value = checked(def, reader.variableByteInteger());
      const list = target[def.name] as number[] | undefined;
      if (list === undefined) target[def.name] = [value];
      else list.push(value);
      return;
    }
    case PropertyType.Utf8String:
      target[def.name] = reader.string();
      return;
    case PropertyType.BinaryData:
      target[def.name] = reader.binary();
      return;
    case PropertyType.Utf8StringPair: {
      // Name and value each obey the string rules [MQTT-1.5.7-1].
      const pair: UserProperty = [reader.string(), reader.string()];
      const list = target[def.name] as UserProperty[] | undefined;
      if (list === undefined) target[def.name] = [pair];
      else list.push(pair);
      return;
    }
  }
}

function checked(def: PropertyDefinition, value: number): number {
  if (value < def.min || value > def.max) throw protocolError(`${def.label} has the invalid value ${value}`);
  return value;
}
