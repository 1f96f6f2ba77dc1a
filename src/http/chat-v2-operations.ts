// Chat API v2's operations on the chat domain, shared by its two transports: the poll API's routes
// (chat-v2-routes.ts) and the CometD mode (push/chat-v2-cometd.ts), so that each operation checks its
// parameters and changes the chat in the same way on both. Who may call (userId, secureKey) is the
// transport's to check first.

import type { ChatDomain, ChatView } from '../chat/chat-service.ts';
import type { ServiceSession } from '../chat/types.ts';
import { NAME_PATTERN } from '../config/config-file.ts';
import type { ServiceDefinition } from '../config/service-file.ts';
import { GatewayError } from '../errors.ts';
import type { Params } from './body.ts';
import { MAX_NICKNAME, defined, required, userDataOf, webUrl, type ServiceDefinitions } from './chat-v2-params.ts';

/** The operations on a chat, by their CometD names (the poll API's paths map to them). */
export type V2Operation =
  | 'refresh'
  | 'readReceipt'
  | 'sendMessage'
  | 'startTyping'
  | 'stopTyping'
  | 'disconnect'
  | 'updateNickname'
  | 'customNotice'
  | 'pushUrl'
  | 'updateData';

const OPERATIONS: ReadonlySet<string> = new Set<V2Operation>([
  'refresh',
  'readReceipt',
  'sendMessage',
  'startTyping',
  'stopTyping',
  'disconnect',
  'updateNickname',
  'customNotice',
  'pushUrl',
  'updateData',
]);

export function isV2Operation(name: string): name is V2Operation {
  return OPERATIONS.has(name);
}

/** `requestChat`: a new session of the named service, its chat started, and `text` sent as its first message. */
export async function requestChat(
  domain: ChatDomain,
  services: ServiceDefinitions,
  name: string,
  p: Params,
  client?: string,
): Promise<ChatView> {
  const service = NAME_PATTERN.test(name) ? services(name) : undefined;
  if (!service?.chatApiVersions.includes(2))
    throw new GatewayError('ServiceNotFound', `No service named '${name}' answers Chat API v2.`);
  const nickname = p.nickname?.trim();
  if (!nickname && !p.firstName?.trim() && !p.lastName?.trim())
    throw new GatewayError('InvalidParameter', "Give a 'nickname', or 'firstName' and 'lastName'.");
  if (nickname) nicknameOf(nickname);
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
  return view;
}

/** One operation on a chat whose caller the transport has checked. */
export async function performV2(
  domain: ChatDomain,
  session: Pick<ServiceSession, 'id' | 'gmsUser'>,
  service: ServiceDefinition | undefined,
  operation: V2Operation,
  p: Params,
): Promise<ChatView> {
  const { id, gmsUser } = session;
  switch (operation) {
    case 'refresh':
      // A message may ride on a refresh (as some WebChat builds send it).
      return p.message?.trim() ? domain.send(id, gmsUser, p.message) : domain.seen(id, gmsUser);
    case 'readReceipt':
      // Acknowledged; the gateway keeps no read receipts.
      return domain.seen(id, gmsUser);
    case 'sendMessage':
      return domain.send(id, gmsUser, p.message);
    case 'startTyping':
    case 'stopTyping':
      return domain.typing(id, gmsUser, operation === 'startTyping');
    case 'disconnect':
      return domain.disconnect(id, gmsUser);
    case 'updateNickname': {
      const nickname = nicknameOf(required(p, 'nickname'));
      return domain.customerChange(id, gmsUser, (chat) => ({
        nickname,
        events: [{ type: 'Notice.NicknameUpdated', text: `was ${chat.customer.nickname}` }],
      }));
    }
    case 'customNotice': {
      const text = p.message ?? '';
      const max = service?.maxMessageLength ?? 4096;
      if ([...text].length > max) throw new GatewayError('InvalidParameter', `The message is longer than ${max} characters.`);
      return domain.customerChange(id, gmsUser, () => ({ events: [{ type: 'Notice.Custom', text }] }));
    }
    case 'pushUrl': {
      const url = webUrl(required(p, 'pushUrl'));
      return domain.customerChange(id, gmsUser, () => ({ events: [{ type: 'Notice.PushUrl', text: url }] }));
    }
    case 'updateData': {
      const userData = userDataOf(p);
      if (Object.keys(userData).length === 0)
        throw new GatewayError('InvalidParameter', "Give the data to attach as 'userData[key]=value'.");
      return domain.customerChange(id, gmsUser, () => ({ userData }));
    }
  }
}

function nicknameOf(raw: string): string {
  const nickname = raw.trim();
  if ([...nickname].length > MAX_NICKNAME)
    throw new GatewayError('InvalidParameter', `The nickname is longer than ${MAX_NICKNAME} characters.`);
  return nickname;
}
