// The content of the files sent in a chat, kept in the session store beside the chat (`file:<chat>:<id>`),
// so that every node of a cluster serves them and a restart keeps them. The chat lists the ids it holds
// (`Chat.fileIds`, written by the same change as the file's event): the domain renews them with the chat
// and removes them with it, in the same atomic write. What may be sent is decided by file-rules.ts.

import type { Op, Store } from '../store/store.ts';
import { randomId } from './random-id.ts';

/** A file as stored: the values keyv holds are JSON, so the bytes travel as base64. */
export interface StoredFile {
  name: string;
  type: string;
  size: number;
  base64: string;
}

const FILE_KEY_PREFIX = 'file:';
const fileKey = (chatSessionId: string, fileId: string): string => `${FILE_KEY_PREFIX}${chatSessionId}:${fileId}`;

/** A file's content (up to maxFileSize, as base64): a store's cache of hot values must not keep it. */
export function isFileKey(key: string): boolean {
  return key.startsWith(FILE_KEY_PREFIX);
}

export class ChatFiles {
  constructor(private readonly store: Store) {}

  /** Stores a file's content under a new id, for `ttlMs` (the chat renews it while it lives). */
  async put(chatSessionId: string, file: { name: string; type: string; content: Buffer }, ttlMs: number): Promise<string> {
    const id = randomId();
    const stored: StoredFile = {
      name: file.name,
      type: file.type,
      size: file.content.length,
      base64: file.content.toString('base64'),
    };
    await this.store.set(fileKey(chatSessionId, id), stored, ttlMs);
    return id;
  }

  get(chatSessionId: string, fileId: string): Promise<StoredFile | undefined> {
    return this.store.get<StoredFile>(fileKey(chatSessionId, fileId));
  }

  /** Removes files no chat holds (an upload whose event was refused). */
  remove(chatSessionId: string, fileIds: readonly string[]): Promise<void> {
    return this.store.write(this.removal(chatSessionId, fileIds));
  }

  /** The ops that remove a chat's files, for the change that removes the chat. */
  removal(chatSessionId: string | undefined, fileIds: readonly string[] = []): Op[] {
    return chatSessionId === undefined ? [] : fileIds.map((id) => ({ kind: 'delete', key: fileKey(chatSessionId, id) }));
  }

  /** The ops that keep the chat's files for `ttlMs` more (the store has no touch: each is written again). */
  async renewal(chatSessionId: string, fileIds: readonly string[], ttlMs: number): Promise<Op[]> {
    const files = await Promise.all(fileIds.map((id) => this.get(chatSessionId, id)));
    return files.flatMap((file, i): Op[] =>
      file ? [{ kind: 'set', key: fileKey(chatSessionId, fileIds[i]), value: file, ttlMs }] : [],
    );
  }
}
