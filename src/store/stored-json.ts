// How values become text in a keyv store: the engine's own JSON.

import type { DeserializedData, KeyvOptions } from 'keyv';

/**
 * Sessions are plain JSON (no Buffers, no BigInts), so the engine's own JSON is enough; keyv's default
 * serializer walks every value in JavaScript and was the largest single cost of a poll.
 */
export const PLAIN_JSON: Pick<KeyvOptions, 'serialize' | 'deserialize'> = {
  serialize: (data: { value?: unknown; expires?: number }) => JSON.stringify(data),
  deserialize: <Value>(text: string) => JSON.parse(text) as DeserializedData<Value>,
};
