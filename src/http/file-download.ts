// Serving a chat's file to one of its parties: always as a download (Content-Disposition: attachment),
// with the type decided when it was stored, never sniffed, and under a sandbox policy, so that a file
// whose bytes are HTML or script can never run in the gateway's origin.

import type { Context } from 'koa';
import type { ChatDomain } from '../chat/chat-service.ts';
import { FileRefused } from '../chat/file-rules.ts';
import type { ChatEvent } from '../chat/types.ts';

export async function sendFile(ctx: Context, domain: ChatDomain, chatSessionId: string, event: ChatEvent): Promise<void> {
  const fileId = event.data?.['file-id'] ?? '';
  const file = await domain.files.get(chatSessionId, fileId);
  if (!file) throw new FileRefused('unknown', 'No such file in this chat: the id is unknown or the file was deleted.');
  ctx.status = 200;
  ctx.type = file.type;
  ctx.set('Content-Disposition', contentDisposition(file.name));
  // A page on another origin (a widget) may read the name to save the file under it.
  ctx.set('Access-Control-Expose-Headers', 'Content-Disposition');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
  ctx.body = Buffer.from(file.base64, 'base64');
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
