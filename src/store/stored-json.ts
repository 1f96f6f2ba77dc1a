// How session values become text in a keyv store: the engine's own JSON, and a value already turned
// into JSON once (for the in-process cache) is written as that text instead of being serialised again.

import type { DeserializedData, KeyvOptions } from 'keyv';

/** A value its writer has already serialised; keyv stores the text as the value's JSON. */
export class JsonText {
  constructor(readonly json: string) {}
}

/**
 * Sessions are plain JSON (no Buffers, no BigInts), so the engine's own JSON is enough; keyv's default
 * serializer walks every value in JavaScript and was the largest single cost of a poll.
 */
export const PLAIN_JSON: Pick<KeyvOptions, 'serialize' | 'deserialize'> = {
  serialize: (data: { value?: unknown; expires?: number }) => {
    if (!(data.value instanceof JsonText)) return JSON.stringify(data);
    // Exactly what JSON.stringify({ value, expires }) writes, so stored rows read back the same.
    return `{"value":${data.value.json}${typeof data.expires === 'number' ? `,"expires":${JSON.stringify(data.expires)}` : ''}}`;
  },
  deserialize: <Value>(text: string) => JSON.parse(text) as DeserializedData<Value>,
};
