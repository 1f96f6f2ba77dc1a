// A GMS customer app in a few lines: create a session, start the chat, and call the Chat API v1.

import type { Reply, TestGateway } from './gateway.ts';

export interface CustomerChat {
  id: string;
  start: Reply;
  call(action: string, body?: Record<string, string>): Promise<Reply>;
}

export async function startCustomerChat(
  gw: Pick<TestGateway, 'post'>,
  options: { service?: string; start?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<CustomerChat> {
  const headers = options.headers ?? {};
  const created = await gw.post(`/genesys/1/service/${options.service ?? 'request-chat'}`, {}, headers);
  if (created.status !== 200) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body._id as string;
  const call = (action: string, body: Record<string, string> = {}): Promise<Reply> =>
    gw.post(`/genesys/1/service/${id}/ixn/chat${action ? `/${action}` : ''}`, body, headers);
  const start = await call('', { firstName: 'Ann', lastName: 'Lee', ...options.start });
  if (start.status !== 200) throw new Error(`start failed: ${start.status} ${JSON.stringify(start.body)}`);
  return { id, call, start };
}
