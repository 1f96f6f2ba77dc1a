// The content of the files sent in a chat, kept in the session store beside the chat (`file:<chat>:<id>`),
// so that every node of a cluster serves them and a restart keeps them. The chat lists the ids it holds
// (`Chat.fileIds`, written by the same change as the file's event): the domain renews them with the chat
// and removes them with it. What may be sent is decided by file-rules.ts.

import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';

/** A file as stored: the values keyv holds are JSON, so the bytes travel as base64. */
export interface StoredFile {
  name: string;
  type: string;
  size: number;
  base64: string;
}

const fileKey = (chatSessionId: string, fileId: string): string => `file:${chatSessionId}:${fileId}`;

export class ChatFiles {
  constructor(private readonly store: Store) {}

  /** Stores a file's content under a new id, for `ttlMs` (the chat renews it while it lives). */
  async put(chatSessionId: string, file: { name: string; type: string; content: Buffer }, ttlMs: number): Promise<string> {
    const id = randomBytes(8).toString('hex').toUpperCase();
    const stored: StoredFile = { name: file.name, type: file.type, size: file.content.length, base64: file.content.toString('base64') };
    await this.store.set(fileKey(chatSessionId, id), stored, ttlMs);
    return id;
  }

  get(chatSessionId: string, fileId: string): Promise<StoredFile | undefined> {
    return this.store.get<StoredFile>(fileKey(chatSessionId, fileId));
  }

  async remove(chatSessionId: string, fileIds: readonly string[]): Promise<void> {
    await Promise.all(fileIds.map((id) => this.store.delete(fileKey(chatSessionId, id))));
  }

  /** Keeps the chat's files for `ttlMs` more (the store has no touch: each is written again). */
  async renew(chatSessionId: string, fileIds: readonly string[], ttlMs: number): Promise<void> {
    await Promise.all(
      fileIds.map(async (id) => {
        const file = await this.get(chatSessionId, id);
        if (file) await this.store.set(fileKey(chatSessionId, id), file, ttlMs);
      }),
    );
  }
}
