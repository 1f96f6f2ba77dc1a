// Chats started through the customer API before a measurement: created and started in concurrent
// batches, so that setting up thousands takes seconds, and never measured themselves.

import type { Request } from 'autocannon';

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Runs `make(i)` for i = 0..count-1, `size` at a time; the results in order. */
export async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let from = 0; from < count; from += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - from) }, (_, k) => make(from + k)))));
  }
  return out;
}

export interface StartedChat {
  /** The service session's id, used in the customer's URLs. */
  id: string;
  chatSessionId: string;
}

/** Creates a request-chat session and starts its chat with the form `body`; throws unless both succeed. */
export async function startChat(url: string, body = 'firstName=Ann', headers: Record<string, string> = {}): Promise<StartedChat> {
  const created = await fetch(`${url}/genesys/1/service/request-chat`, { method: 'POST', headers: { ...FORM, ...headers } });
  if (created.status !== 200) throw new Error(`could not create a session: ${created.status} ${await created.text()}`);
  const { _id: id } = (await created.json()) as { _id: string };
  const started = await fetch(`${url}/genesys/1/service/${id}/ixn/chat`, {
    method: 'POST',
    headers: { ...FORM, ...headers },
    body,
  });
  if (started.status !== 200) throw new Error(`could not start a chat: ${started.status} ${await started.text()}`);
  return { id, chatSessionId: ((await started.json()) as { chatSessionId: string }).chatSessionId };
}

/** What one autocannon connection remembers between the requests of its sequence: its chat. */
export interface ChatContext {
  id?: string;
}

export const chatOf = (context: object): string => String((context as ChatContext).id);

/** One chat start under autocannon, two requests: create the service session, then start its chat. */
export const chatStartRequests: Request[] = [
  {
    method: 'POST',
    path: '/genesys/1/service/request-chat',
    headers: FORM,
    body: 'topic=bench',
    onResponse: (status, body, context) => {
      if (status === 200) (context as ChatContext).id = (JSON.parse(body) as { _id: string })._id;
    },
  },
  {
    method: 'POST',
    headers: FORM,
    setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat`, body: 'firstName=Ann' }),
  },
];

/**
 * A send into a chat `pick` chooses (and notes in the context), then a refresh of that same chat; `headersOf`
 * adds a chat's own headers (the gms_user of a comet chat).
 */
export function sendAndRefresh(
  pick: (context: object) => string,
  headersOf: (id: string) => Record<string, string> = () => ({}),
): Request[] {
  return [
    {
      method: 'POST',
      headers: FORM,
      setupRequest: (req, context) => {
        const id = pick(context);
        return {
          ...req,
          path: `/genesys/1/service/${id}/ixn/chat/send`,
          headers: { ...req.headers, ...headersOf(id) },
          body: 'message=Hello%2C%20is%20anyone%20there%3F',
        };
      },
    },
    {
      method: 'POST',
      setupRequest: (req, context) => ({
        ...req,
        path: `/genesys/1/service/${chatOf(context)}/ixn/chat/refresh`,
        headers: { ...req.headers, ...headersOf(chatOf(context)) },
      }),
    },
  ];
}
