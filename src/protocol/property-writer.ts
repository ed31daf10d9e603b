// Writes an MQTT 5 property block. propertiesSize checks every property against the table (the
// same one the reader enforces) and measures the block; writeProperties then writes it into a
// buffer of the measured size. Properties are written in the order of the object's keys.

import {
  binarySize,
  stringSize,
  writeBinary,
  writeStringMeasured,
  writeUint16,
  writeUint32,
  writeVariableByteInteger,
} from './byte-writer.js';
import { malformed, protocolError } from './errors.js';
import { variableByteIntegerSize } from './fixed-header.js';
import type { Properties, UserProperty } from './packets.js';
import {
  PROPERTY_BY_NAME,
  PropertyType,
  contextName,
  isAllowedIn,
  isRepeatableIn,
  type PropertyContext,
  type PropertyDefinition,
} from './properties.js';

/** Bytes of the properties themselves, without the Property Length in front of them. */
export function propertiesSize(properties: Properties | undefined, context: PropertyContext): number {
  if (properties === undefined) return 0;
  let size = 0;
  for (const name in properties) {
    const value = (properties as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const def = PROPERTY_BY_NAME.get(name);
    if (def === undefined) throw malformed(`unknown property ${name}`);
    if (!isAllowedIn(def, context)) throw malformed(`${def.label} is not allowed in ${contextName(context)}`);
    if (def.type === PropertyType.VariableByteInteger || def.type === PropertyType.Utf8StringPair) {
      if (!Array.isArray(value)) throw malformed(`${name} is not a list`);
      if (value.length > 1 && !isRepeatableIn(def, context)) {
        throw protocolError(`${def.label} appears more than once in ${contextName(context)}`);
      }
      for (const item of value) size += 1 + valueSize(def, item);
    } else {
      size += 1 + valueSize(def, value);
    }
  }
  return size;
}

/** Bytes of the whole block: Property Length and properties. */
export const propertyBlockSize = (contentSize: number): number => variableByteIntegerSize(contentSize) + contentSize;

function valueSize(def: PropertyDefinition, value: unknown): number {
  switch (def.type) {
    case PropertyType.Byte:
      checkValue(def, value);
      return 1;
    case PropertyType.TwoByteInteger:
      checkValue(def, value);
      return 2;
    case PropertyType.FourByteInteger:
      checkValue(def, value);
      return 4;
    case PropertyType.VariableByteInteger:
      return variableByteIntegerSize(checkValue(def, value));
    case PropertyType.Utf8String:
      return 2 + stringSize(value as string, def.label);
    case PropertyType.BinaryData:
      return 2 + binarySize(value as Uint8Array, def.label);
    case PropertyType.Utf8StringPair: {
      const pair = value as UserProperty;
      if (!Array.isArray(pair) || pair.length !== 2) throw malformed(`${def.label} is not a [name, value] pair`);
      return 4 + stringSize(pair[0], `${def.label} name`) + stringSize(pair[1], `${def.label} value`);
    }
  }
}

function checkValue(def: PropertyDefinition, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw malformed(`${def.label} is not an integer`);
  if (value < def.min || value > def.max) throw protocolError(`${def.label} has the invalid value ${value}`);
  return value;
}

/** Writes the Property Length `contentSize` (from propertiesSize) and the properties. */
export function writeProperties(buf: Buffer, offset: number, properties: Properties | undefined,
  contentSize: number): number {
  offset = writeVariableByteInteger(buf, offset, contentSize);
  if (properties === undefined || contentSize === 0) return offset;
  for (const name in properties) {
    const value = (properties as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const def = PROPERTY_BY_NAME.get(name)!;
    if (Array.isArray(value) && def.type !== PropertyType.Utf8StringPair) {
      for (const item of value as number[]) offset = writeValue(buf, offset, def, item);
    } else if (def.type === PropertyType.Utf8StringPair) {
      for (const pair of value as UserProperty[]) offset = writeValue(buf, offset, def, pair);
    } else {
      offset = writeValue(buf, offset, def, value);
    }
  }
  return offset;
}

function writeValue(buf: Buffer, offset: number, def: PropertyDefinition, value: unknown): number {
  buf[offset++] = def.id;
  switch (def.type) {
    case PropertyType.Byte:
      buf[offset] = value as number;
      return offset + 1;
    case PropertyType.TwoByteInteger:
      return writeUint16(buf, offset, value as number);
    case PropertyType.FourByteInteger:
      return writeUint32(buf, offset, value as number);
    case PropertyType.VariableByteInteger:
      return writeVariableByteInteger(buf, offset, value as number);
    case PropertyType.Utf8String:
      return writeStringMeasured(buf, offset, value as string);
    case PropertyType.BinaryData:
      return writeBinary(buf, offset, value as Uint8Array);
    case PropertyType.Utf8StringPair: {
      const [name, text] = value as UserProperty;
      return writeStringMeasured(buf, writeStringMeasured(buf, offset, name), text);
    }
  }
}
