// A Chat API Version 2 customer app in a few lines: request a chat, then call it with its userId,
// secureKey and alias, as Genesys Widgets' WebChat and the public mobile and bot clients do.

import type { Reply, TestGateway } from './gateway.ts';

export interface V2Chat {
  chatId: string;
  userId: string;
  secureKey: string;
  alias: string;
  start: Reply;
  /** Calls `.../{chatId}/{action}` with the chat's credentials and `body` (a form). */
  call(action: string, body?: Record<string, string>): Promise<Reply>;
  /** The credentials as form fields. */
  credentials(): Record<string, string>;
}

export async function startV2Chat(
  gw: Pick<TestGateway, 'post'>,
  options: { service?: string; form?: Record<string, string> } = {},
): Promise<V2Chat> {
  const service = options.service ?? 'request-chat';
  const start = await gw.post(`/genesys/2/chat/${service}`, { nickname: 'Ann', ...options.form });
  if (start.status !== 200) throw new Error(`request chat failed: ${start.status} ${JSON.stringify(start.body)}`);
  const { chatId, userId, secureKey, alias } = start.body as Record<string, string>;
  const credentials = (): Record<string, string> => ({ userId: userId, secureKey: secureKey, alias: alias });
  return {
    chatId: chatId,
    userId: userId,
    secureKey: secureKey,
    alias: alias,
    start,
    credentials,
    call: (action: string, body: Record<string, string> = {}): Promise<Reply> =>
      gw.post(`/genesys/2/chat/${service}/${chatId}/${action}`, { ...credentials(), ...body }),
  };
}
