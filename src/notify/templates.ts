// The text of a notification, pure: the provider's localized templates for the chat's
// push_notification_language (falling back to its base language, the provider's default language and
// the built-in English), filled in with the events it tells of.

import type { ChatEvent } from '../chat/types.ts';

export interface Templates {
  title: string;
  message: string;
  joined: string;
  left: string;
  pushUrl: string;
  notice: string;
  file: string;
  several: string;
}

export const BUILT_IN: Templates = {
  title: 'New chat activity',
  message: '{nickname}: {text}',
  joined: '{nickname} has joined the chat',
  left: '{nickname} has left the chat',
  pushUrl: '{nickname} sent a link: {text}',
  notice: '{nickname}: {text}',
  file: '{nickname} sent a file: {text}',
  several: '{count} new messages; the last from {nickname}: {text}',
};

const KEY_OF: Record<string, keyof Templates> = {
  'Message.Text': 'message',
  'Notice.Joined': 'joined',
  'Notice.Left': 'left',
  'Notice.PushUrl': 'pushUrl',
  'Notice.Custom': 'notice',
  'Notice.FileUploaded': 'file',
};

/** The templates for a language: its own keys, then its base language's, the default language's, the built-in ones. */
export function templatesFor(
  messages: Record<string, Partial<Templates>>,
  defaultLanguage: string,
  language: string | undefined,
): Templates {
  const lower = new Map(Object.entries(messages).map(([tag, t]) => [tag.toLowerCase(), t]));
  const chain = [language, language?.split('-')[0], defaultLanguage, defaultLanguage.split('-')[0]];
  const found = chain.flatMap((tag) => (tag && lower.has(tag.toLowerCase()) ? [lower.get(tag.toLowerCase())!] : []));
  return Object.assign({}, BUILT_IN, ...found.reverse()) as Templates;
}

/** Title and text of a notification telling of `events` (at least one), the last one named. */
export function notificationText(templates: Templates, events: ChatEvent[]): { title: string; body: string } {
  const last = events[events.length - 1];
  const template = events.length > 1 ? templates.several : templates[KEY_OF[last.type] ?? 'notice'];
  return {
    title: templates.title,
    body: fill(template, { nickname: last.nickname, text: last.text, count: String(events.length) }),
  };
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(nickname|text|count)\}/g, (_, key: string) => values[key]);
}
