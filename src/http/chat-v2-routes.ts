// Chat API Version 2 (GMS 8.5.1+, what Genesys Widgets' WebChat speaks): a second protocol adapter over
// the same chat domain as v1. A v2 chat is a service session started in one call; its calls name it by
// chatId and prove it is theirs with userId and secureKey, checked on every call before anything changes.

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
import type { ServiceDefinition } from '../config/service-file.ts';
import { GatewayError } from '../errors.ts';
import { performV2, requestChat, type V2Operation } from './chat-v2-operations.ts';
import { CHAT_ID, required, same, type ServiceDefinitions } from './chat-v2-params.ts';
import { V2_BASE, v2Answer, v2Messages } from './chat-v2-wire.ts';
import { sendFile } from './file-download.ts';
import { answerJson } from './json-answer.ts';
import type { RateLimiter } from './rate-limit.ts';
import { readUpload } from './upload.ts';

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
    answerJson(ctx, v2Answer(view.chat, messages, extra));
  };

  router.post('/:service', async (ctx) => {
    const client = limits.capped(ctx.state.clientAddress);
    const view = await requestChat(domain, services, ctx.params.service, ctx.state.params, client);
    answerJson(ctx, v2Answer(view.chat, v2Messages(view.chat, 1)));
  });

  /** A route for one operation; `fallback`: the messages answered when no transcriptPosition is given. */
  const operation = (name: V2Operation, fallback: 'none' | 'unseen' = 'none') =>
    async function (ctx: Context): Promise<void> {
      const { session, service } = await customerChat(ctx);
      answer(ctx, await performV2(domain, session, service, name, ctx.state.params), fallback);
    };
  router.post('/:service/:chatId/refresh', operation('refresh', 'unseen'));
  // Read receipts (sent by some WebChat builds) are acknowledged; the gateway keeps none.
  router.post('/:service/:chatId/readReceipt', operation('readReceipt'));
  router.post('/:service/:chatId/send', operation('sendMessage'));
  router.post('/:service/:chatId/startTyping', operation('startTyping'));
  router.post('/:service/:chatId/stopTyping', operation('stopTyping'));
  router.post('/:service/:chatId/disconnect', operation('disconnect'));
  router.post('/:service/:chatId/updateNickname', operation('updateNickname'));
  router.post('/:service/:chatId/customNotice', operation('customNotice'));
  router.post('/:service/:chatId/pushUrl', operation('pushUrl'));
  router.post('/:service/:chatId/updateData', operation('updateData'));

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
    answerJson(ctx, { messages: [notice], chatEnded: chat.state === 'ended', statusCode: 0, userData });
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
