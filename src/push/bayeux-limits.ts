// What one Bayeux request may carry, decided before faye sees it: its messages parsed from the body
// (JSON, or the `message` field of a form or query string, as faye reads them), how many there are and
// how deeply they nest. Pure functions; the door (bayeux-door.ts) turns a refusal into an HTTP answer.

export interface BayeuxLimits {
  /** Most messages in one request (or websocket frame). */
  maxMessages: number;
  /** Deepest nesting of objects and arrays in one message. */
  maxDepth: number;
}

export type BayeuxCheck = { ok: true; count: number } | { ok: false; reason: string };

/** The text faye will parse: a GET's `message` query field, a JSON POST's body, else the form's `message` field. */
export function bayeuxText(
  method: string | undefined,
  body: string,
  contentType: string | undefined,
  query: string,
): string | undefined {
  if (method === 'GET') return new URLSearchParams(query).get('message') ?? undefined;
  const type = (contentType ?? '').split(';')[0];
  if (type === 'application/json') return body;
  return new URLSearchParams(body).get('message') ?? undefined;
}

/** A Bayeux text parsed as faye reads it: a message object or an array of them, or why it is neither. */
export function parseBayeux(text: string): { ok: true; value: object } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'The Bayeux message is not valid JSON.' };
  }
  if (!isMessage(parsed) && !(Array.isArray(parsed) && parsed.every(isMessage)))
    return { ok: false, reason: 'A Bayeux request holds a message object or an array of them.' };
  return { ok: true, value: parsed as object };
}

const isMessage = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses a request's Bayeux text and checks it against the limits. */
export function checkBayeux(text: string | undefined, limits: BayeuxLimits): BayeuxCheck {
  if (text === undefined) return { ok: false, reason: 'The request carries no Bayeux message.' };
  const read = parseBayeux(text);
  if (!read.ok) return read;
  const parsed = read.value;
  const count = Array.isArray(parsed) ? parsed.length : 1;
  if (count > limits.maxMessages) return { ok: false, reason: `More than ${limits.maxMessages} Bayeux messages in one request.` };
  // The array of messages is one level more than each message.
  if (depthExceeds(parsed, limits.maxDepth + (Array.isArray(parsed) ? 1 : 0))) {
    return { ok: false, reason: `A Bayeux message nests deeper than ${limits.maxDepth} levels.` };
  }
  return { ok: true, count };
}

/**
 * Whether objects and arrays nest deeper than `max` in a parsed JSON value (a bare value is depth 0).
 * Walked with an explicit stack, so that no input can exhaust the call stack.
 */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
