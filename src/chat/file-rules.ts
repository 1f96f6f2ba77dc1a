// The rules of files in a chat, as pure functions: what a contact center allows (size, count, types),
// how much of it a party has used (read from the transcript's file events, so that it can never drift
// from what happened), and how a file's name and type are made safe to store and to serve.

import { GatewayError } from '../errors.ts';
import type { Chat, ChatEvent, PartyType } from './types.ts';

/** A service's file transfer options (schemas/request-chat.schema.json, `fileTransfer`). */
export interface FileLimits {
  enabled: boolean;
  /** Largest file, in bytes. */
  maxFileSize: number;
  /** Most files one party may upload into one chat. */
  maxFiles: number;
  /** Most bytes one party may upload into one chat, all files together. */
  maxTotalSize: number;
  /** Allowed extensions, lower case, without the dot. */
  fileTypes: string[];
  /** The customer may upload only while an agent is in the chat. */
  needAgent: boolean;
}

export const NO_FILES: FileLimits = {
  enabled: false,
  maxFileSize: 0,
  maxFiles: 0,
  maxTotalSize: 0,
  fileTypes: [],
  needAgent: true,
};

/** Why an upload was refused; Chat API v2 gives each reason its own error code. */
export type FileRefusal = 'disabled' | 'type' | 'size' | 'count' | 'total' | 'agent' | 'unknown';

export class FileRefused extends GatewayError {
  constructor(
    readonly reason: FileRefusal,
    message: string,
  ) {
    super(reason === 'size' ? 'PayloadTooLarge' : reason === 'unknown' ? 'NotFound' : 'InvalidParameter', message);
  }
}

/** What an uploaded file's event says about it (the keys Chat API v2 and Genesys Widgets use). */
export interface FileFacts {
  id: string;
  name: string;
  size: number;
  type: string;
}

export function fileEventData(file: FileFacts): Record<string, string> {
  return { 'file-id': file.id, 'file-name': file.name, 'file-size': String(file.size), 'file-type': file.type };
}

const MAX_NAME_LENGTH = 128;

/**
 * A name safe to show and to put in a Content-Disposition header: no path (either separator), no
 * control or quoting characters, no leading dots, at most 128 characters, the extension kept.
 */
export function sanitizeFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  let name = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are what this replaces
    .replace(/[\u0000-\u001f\u007f-\u009f"*:<>?|;`$\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '_')
    .trim()
    .replace(/^\.+/, '');
  if ([...name].length > MAX_NAME_LENGTH) {
    const ext = extensionOf(name);
    const keep = MAX_NAME_LENGTH - (ext ? ext.length + 1 : 0);
    name = [...name].slice(0, Math.max(1, keep)).join('') + (ext ? `.${ext}` : '');
  }
  return name === '' ? 'file' : name;
}

/** The extension of a file name, lower case, without the dot ('' when it has none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Types served as themselves; anything else, and anything a browser could run (HTML, SVG, XML, scripts), is a download. */
const CONTENT_TYPES: Record<string, string> = {
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  webp: 'image/webp',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
};

/** The content type a file is stored and served with: decided by its (sanitised) name, never by what the sender claimed. */
export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extensionOf(name)] ?? 'application/octet-stream';
}

export interface FileUsage {
  files: number;
  bytes: number;
}

/** How many files, and how many bytes, `party` has uploaded into the chat (deleted ones count: the allowance is for uploads). */
export function fileUsage(events: readonly ChatEvent[], party: PartyType): FileUsage {
  let files = 0;
  let bytes = 0;
  for (const e of events) {
    if (e.type !== 'Notice.FileUploaded' || e.partyType !== party) continue;
    files += 1;
    bytes += Number(e.data?.['file-size'] ?? 0);
  }
  return { files, bytes };
}

/** Refuses an upload the limits do not allow; checked before the file is read and again inside the chat's atomic change. */
export function checkUpload(chat: Chat, limits: FileLimits, party: PartyType, file: { name: string; size: number }): void {
  if (!limits.enabled) throw new FileRefused('disabled', 'File transfer is not enabled for this service.');
  if (party === 'CLIENT' && limits.needAgent && chat.agents.length === 0) {
    throw new FileRefused('agent', 'Files can be sent once an agent has joined the chat.');
  }
  const ext = extensionOf(file.name);
  if (!ext || !limits.fileTypes.includes(ext)) {
    throw new FileRefused('type', `Files of this type cannot be sent; allowed: ${limits.fileTypes.join(', ') || 'none'}.`);
  }
  if (file.size > limits.maxFileSize) throw new FileRefused('size', `The file is larger than ${limits.maxFileSize} bytes.`);
  const used = fileUsage(chat.events, party);
  if (used.files >= limits.maxFiles) throw new FileRefused('count', `At most ${limits.maxFiles} files can be sent in one chat.`);
  if (used.bytes + file.size > limits.maxTotalSize) {
    throw new FileRefused('total', `At most ${limits.maxTotalSize} bytes of files can be sent in one chat.`);
  }
}

/** The upload event of a file of the chat, and whether it was deleted since. */
export function findFile(events: readonly ChatEvent[], fileId: string): { uploaded: ChatEvent; deleted: boolean } | undefined {
  let uploaded: ChatEvent | undefined;
  let deleted = false;
  for (const e of events) {
    if (e.data?.['file-id'] !== fileId) continue;
    if (e.type === 'Notice.FileUploaded') uploaded = e;
    else if (e.type === 'Notice.FileDeleted') deleted = true;
  }
  return uploaded ? { uploaded, deleted } : undefined;
}

/** A file of the chat that can still be downloaded, or the error that says why not. */
export function liveFile(chat: Chat, fileId: string): ChatEvent {
  const found = findFile(chat.events, fileId);
  if (!found || found.deleted)
    throw new FileRefused('unknown', 'No such file in this chat: the id is unknown or the file was deleted.');
  return found.uploaded;
}
