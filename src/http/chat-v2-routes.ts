// Chat API Version 2 (GMS 8.5.1+, what Genesys Widgets' WebChat speaks): a second protocol adapter over
// the same chat domain as v1. A v2 chat is a service session started in one call; its calls name it by
// chatId and prove it is theirs with userId and secureKey, checked on every call before anything changes.

import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { parsePosition, type ChatDomain, type ChatView } from '../chat/chat-service.ts';
import {
  checkUpload,
  contentTypeFor,
  FileRefused,
  fileEventData,
  fileUsage,
  liveFile,
  sanitizeFileName,
  type FileLimits,
} from '../chat/file-rules.ts';
import type { Chat, ServiceSession } from '../chat/types.ts';
import { NAME_PATTERN } from '../config/config-file.ts';
import type { ServiceDefinition } from '../config/service-file.ts';
import { GatewayError } from '../errors.ts';
import type { Params } from './body.ts';
import { V2_BASE, v2Answer, v2Messages } from './chat-v2-wire.ts';
import { sendFile } from './file-download.ts';
import type { RateLimiter } from './rate-limit.ts';
import { readUpload } from './upload.ts';

export type ServiceDefinitions = (name: string) => ServiceDefinition | undefined;

export const CHAT_ID = /^[A-Za-z0-9]{1,64}$/;
export const MAX_NICKNAME = 256;
const MAX_USER_DATA_VALUE = 4096;
/** `userData[key]`, also written `userData["key"]` by some apps. */
const USER_DATA_KEY = /^userData\[("?)([^\]"]{1,256})\1\]$/;
/** What Genesys Widgets and Chat Server call a limits reply's notice. */
const LIMITS_NOTICE = 'file-client-cfg-get';
/** download-attempts when downloads are not counted (they are not: see README). */
const UNLIMITED = String(2 ** 31 - 1);

interface CustomerChat {
  session: ServiceSession;
  chat: Chat;
  service: ServiceDefinition | undefined;
}

export function chatV2Routes(domain: ChatDomain, services: ServiceDefinitions, limits: RateLimiter): Router {
  const router = new Router({ prefix: V2_BASE });

  // The per-session limit, keyed by the chat id the router matched (as v1 keys it by the session id).
  router.param('chatId', (chatId, ctx, next) => {
    limits.checkSession(ctx.state.clientAddress, chatId);
    return next();
  });

  /** The caller's chat: it exists, belongs to the service in the path, and userId and secureKey match. */
  const customerChat = async (ctx: Context): Promise<CustomerChat> => {
    const p = ctx.state.params;
    const userId = required(p, 'userId');
    const secureKey = required(p, 'secureKey');
    const chatId = (ctx.params as Record<string, string>).chatId;
    const found = CHAT_ID.test(chatId) ? await domain.findChat(chatId) : undefined;
    if (
      !found ||
      found.session.service !== (ctx.params as Record<string, string>).service ||
      !same(found.chat.secureKey, secureKey) ||
      !same(found.chat.userId, userId)
    ) {
      throw chatNotFound();
    }
    return { ...found, service: services(found.session.service) };
  };

  /** Answers with the messages from `transcriptPosition` on (or `fallback` when it is absent). */
  const answer = (ctx: Context, view: ChatView, fallback: 'none' | 'unseen', extra?: Record<string, unknown>): void => {
    const from = parsePosition(ctx.state.params.transcriptPosition);
    const messages =
      from !== undefined
        ? v2Messages(view.chat, Math.max(1, from))
        : fallback === 'unseen'
          ? v2Messages(view.chat, view.events[0]?.position ?? Infinity)
          : [];
    ctx.body = v2Answer(view.chat, messages, extra);
  };

  router.post('/:service', async (ctx) => {
    const name = ctx.params.service;
    const service = NAME_PATTERN.test(name) ? services(name) : undefined;
    if (!service?.chatApiVersions.includes(2))
      throw new GatewayError('ServiceNotFound', `No service named '${name}' answers Chat API v2.`);
    const p = ctx.state.params;
    const nickname = p.nickname?.trim();
    if (!nickname && !p.firstName?.trim() && !p.lastName?.trim()) {
      throw new GatewayError('InvalidParameter', "Give a 'nickname', or 'firstName' and 'lastName'.");
    }
    if (nickname && [...nickname].length > MAX_NICKNAME)
      throw new GatewayError('InvalidParameter', `The nickname is longer than ${MAX_NICKNAME} characters.`);
    const client = limits.capped(ctx.state.clientAddress);
    const session = await domain.createSession(service, {}, undefined, client);
    let view = await domain.startChat(session.id, undefined, {
      ...defined({
        firstName: p.firstName,
        lastName: p.lastName,
        email: p.emailAddress,
        subject: p.subject,
        userDisplayName: nickname,
      }),
      userData: userDataOf(p),
      ...(client !== undefined ? { client } : {}),
    });
    // `text`: a first message sent with the request (as the public bots send it).
    if (p.text?.trim()) view = await domain.send(session.id, undefined, p.text);
    ctx.body = v2Answer(view.chat, v2Messages(view.chat, 1));
  });

  router.post('/:service/:chatId/refresh', async (ctx) => {
    const { session } = await customerChat(ctx);
    const message = ctx.state.params.message;
    const view = message?.trim()
      ? await domain.send(session.id, session.gmsUser, message)
      : await domain.customerChange(session.id, session.gmsUser, () => ({}));
    answer(ctx, view, 'unseen');
  });

  // Read receipts (sent by some WebChat builds) are acknowledged; the gateway keeps none.
  router.post('/:service/:chatId/readReceipt', async (ctx) => {
    const { session } = await customerChat(ctx);
    answer(ctx, await domain.customerChange(session.id, session.gmsUser, () => ({})), 'none');
  });

  router.post('/:service/:chatId/send', async (ctx) => {
    const { session } = await customerChat(ctx);
    answer(ctx, await domain.send(session.id, session.gmsUser, ctx.state.params.message), 'none');
  });

  router.post('/:service/:chatId/startTyping', async (ctx) => {
    const { session } = await customerChat(ctx);
    answer(ctx, await domain.typing(session.id, session.gmsUser, true), 'none');
  });

  router.post('/:service/:chatId/stopTyping', async (ctx) => {
    const { session } = await customerChat(ctx);
    answer(ctx, await domain.typing(session.id, session.gmsUser, false), 'none');
  });

  router.post('/:service/:chatId/disconnect', async (ctx) => {
    const { session } = await customerChat(ctx);
    answer(ctx, await domain.disconnect(session.id, session.gmsUser), 'none');
  });

  router.post('/:service/:chatId/updateNickname', async (ctx) => {
    const { session } = await customerChat(ctx);
    const nickname = required(ctx.state.params, 'nickname').trim();
    if ([...nickname].length > MAX_NICKNAME)
      throw new GatewayError('InvalidParameter', `The nickname is longer than ${MAX_NICKNAME} characters.`);
    const view = await domain.customerChange(session.id, session.gmsUser, (chat) => ({
      nickname,
      events: [{ type: 'Notice.NicknameUpdated', text: `was ${chat.customer.nickname}` }],
    }));
    answer(ctx, view, 'none');
  });

  router.post('/:service/:chatId/customNotice', async (ctx) => {
    const { session, service } = await customerChat(ctx);
    const text = ctx.state.params.message ?? '';
    const max = service?.maxMessageLength ?? 4096;
    if ([...text].length > max) throw new GatewayError('InvalidParameter', `The message is longer than ${max} characters.`);
    answer(
      ctx,
      await domain.customerChange(session.id, session.gmsUser, () => ({ events: [{ type: 'Notice.Custom', text }] })),
      'none',
    );
  });

  router.post('/:service/:chatId/pushUrl', async (ctx) => {
    const { session } = await customerChat(ctx);
    const url = webUrl(required(ctx.state.params, 'pushUrl'));
    answer(
      ctx,
      await domain.customerChange(session.id, session.gmsUser, () => ({ events: [{ type: 'Notice.PushUrl', text: url }] })),
      'none',
    );
  });

  router.post('/:service/:chatId/updateData', async (ctx) => {
    const { session } = await customerChat(ctx);
    const userData = userDataOf(ctx.state.params);
    if (Object.keys(userData).length === 0)
      throw new GatewayError('InvalidParameter', "Give the data to attach as 'userData[key]=value'.");
    answer(ctx, await domain.customerChange(session.id, session.gmsUser, () => ({ userData })), 'none');
  });

  // ---- files ----

  router.post('/:service/:chatId/file/limits', async (ctx) => {
    const { chat, service } = await customerChat(ctx);
    const limits = fileLimits(service);
    const used = fileUsage(chat.events, 'CLIENT');
    const userData = {
      'download-attempts': UNLIMITED,
      'upload-max-files': String(limits.enabled ? limits.maxFiles : 0),
      'upload-max-file-size': String(limits.maxFileSize),
      'upload-max-total-size': String(limits.maxTotalSize),
      'upload-need-agent': String(limits.needAgent),
      'upload-file-types': limits.fileTypes.join(':'),
      'used-upload-max-files': String(used.files),
      'used-upload-max-total-size': String(used.bytes),
      'used-download-attempts': '0',
    };
    const notice = {
      from: { nickname: chat.customer.nickname, participantId: 1, type: 'Client' },
      type: 'Notice',
      text: LIMITS_NOTICE,
      utcTime: Date.now(),
      userData,
    };
    ctx.body = { messages: [notice], chatEnded: chat.state === 'ended', statusCode: 0, userData };
  });

  router.post('/:service/:chatId/file', async (ctx) => {
    // The fields (userId, secureKey) travel in the multipart body, beside the file: the body is read
    // (up to the service's file size) only for a chat that exists and takes files.
    const found = CHAT_ID.test(ctx.params.chatId) ? await domain.findChat(ctx.params.chatId) : undefined;
    const limits = fileLimits(found ? services(found.session.service) : undefined);
    if (!found || !limits.enabled) {
      ctx.req.resume();
      if (!found) throw chatNotFound();
      throw new FileRefused('disabled', 'File transfer is not enabled for this service.');
    }
    const upload = await readUpload(ctx, limits.maxFileSize);
    Object.assign(ctx.state.params, upload.fields);
    const { session, chat } = await customerChat(ctx);
    const name = sanitizeFileName(upload.file.name);
    checkUpload(chat, limits, 'CLIENT', { name, size: upload.file.content.length });
    const type = contentTypeFor(name);
    const description = ctx.state.params['userData[file-description]'];
    const fileId = await domain.putFile(session, { name, type, content: upload.file.content });
    let view: ChatView;
    try {
      view = await domain.customerChange(session.id, session.gmsUser, (current) => {
        checkUpload(current, limits, 'CLIENT', { name, size: upload.file.content.length });
        const data = {
          ...fileEventData({ id: fileId, name, size: upload.file.content.length, type }),
          ...(description ? { 'file-description': description } : {}),
        };
        return { fileId, events: [{ type: 'Notice.FileUploaded', text: name, data }] };
      });
    } catch (err) {
      // Refused inside the change (a concurrent upload used the allowance): the content goes too.
      await domain.files.remove(chat.chatSessionId, [fileId]);
      throw err;
    }
    answer(ctx, view, 'none', { userData: { 'file-id': fileId } });
  });

  const download = async (ctx: Context): Promise<void> => {
    const { chat } = await customerChat(ctx);
    const event = liveFile(chat, (ctx.params as Record<string, string>).fileId);
    await sendFile(ctx, domain, chat.chatSessionId, event);
  };
  router.get('/:service/:chatId/file/:fileId/download', download);
  router.post('/:service/:chatId/file/:fileId/download', download);

  router.post('/:service/:chatId/file/:fileId/delete', async (ctx) => {
    const { session } = await customerChat(ctx);
    const fileId = ctx.params.fileId;
    const view = await domain.customerChange(session.id, session.gmsUser, (current) => {
      const event = liveFile(current, fileId);
      if (event.partyType !== 'CLIENT') throw new GatewayError('Forbidden', 'Only the side that sent a file can delete it.');
      // The event and the removal of the content are one change of the chat.
      return {
        events: [{ type: 'Notice.FileDeleted', text: event.text, data: { 'file-id': fileId } }],
        deletedFileIds: [fileId],
      };
    });
    answer(ctx, view, 'none');
  });

  return router;
}

function chatNotFound(): GatewayError {
  return new GatewayError(
    'SessionNotFound',
    'No such chat: the chatId is unknown or expired, or userId and secureKey do not match it.',
  );
}

function fileLimits(service: ServiceDefinition | undefined): FileLimits {
  return (
    service?.fileTransfer ?? { enabled: false, maxFileSize: 1, maxFiles: 0, maxTotalSize: 0, fileTypes: [], needAgent: true }
  );
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value.trim() === '')
    throw new GatewayError('InvalidParameter', `The parameter '${name}' is required.`);
  return value;
}

/** Both ids are ours (hex); a timing-safe comparison costs nothing and says nothing. */
export function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `userData[key]=value` parameters, or a `userData` JSON object (a JSON body), as the chat's user data. */
export function userDataOf(params: Params): Record<string, string> {
  const data: Record<string, string> = {};
  const put = (key: string, value: unknown): void => {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if ([...text].length > MAX_USER_DATA_VALUE)
      throw new GatewayError(
        'InvalidParameter',
        `The value of userData[${key}] is longer than ${MAX_USER_DATA_VALUE} characters.`,
      );
    data[key] = text;
  };
  for (const [key, value] of Object.entries(params)) {
    const m = USER_DATA_KEY.exec(key);
    if (m) put(m[2], value);
  }
  if (params.userData !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.userData);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new GatewayError('InvalidParameter', "'userData' must be a JSON object, or be sent as userData[key]=value.");
    }
    for (const [key, value] of Object.entries(parsed)) if (value !== null && value !== undefined) put(key, value);
  }
  return data;
}

export function defined(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ''),
  );
}

export function webUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new GatewayError('InvalidParameter', "The parameter 'pushUrl' is not a valid absolute URL.");
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new GatewayError('InvalidParameter', "The parameter 'pushUrl' must be an http or https URL.");
  return url.href;
}
