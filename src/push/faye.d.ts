// The part of faye's API this gateway uses (faye ships no types): the Node adapter, its server-side
// extensions, and the client (the in-process publisher, and the tests' Bayeux clients).

declare module 'faye' {
  import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
  import type { Socket } from 'node:net';
  import type { Duplex, Readable } from 'node:stream';

  /** What faye reads of a request: an IncomingMessage, or its body replayed by the gateway's door. */
  export interface BayeuxRequest extends Readable {
    method?: string | undefined;
    url?: string | undefined;
    headers: IncomingHttpHeaders;
    socket: Socket;
  }

  /** A Bayeux message as it crosses faye's extension pipeline. */
  export interface BayeuxMessage {
    channel: string;
    clientId?: string;
    id?: string;
    data?: unknown;
    subscription?: string | string[];
    successful?: boolean;
    error?: string;
    ext?: Record<string, unknown>;
    [field: string]: unknown;
  }

  /** `request` is the HTTP request (or websocket upgrade) the message came in on; null for in-process clients. */
  export interface ServerExtension {
    incoming?(message: BayeuxMessage, request: BayeuxRequest | null, callback: (message: BayeuxMessage) => void): void;
    outgoing?(message: BayeuxMessage, request: BayeuxRequest | null, callback: (message: BayeuxMessage) => void): void;
  }

  export interface ClientExtension {
    incoming?(message: BayeuxMessage, callback: (message: BayeuxMessage) => void): void;
    outgoing?(message: BayeuxMessage, callback: (message: BayeuxMessage) => void): void;
  }

  export interface Thenable<T = unknown> {
    then(onFulfilled?: (value: T) => unknown, onRejected?: (error: { code?: number; message?: string }) => unknown): Thenable;
  }

  export interface Subscription extends Thenable {
    cancel(): void;
    unsubscribe(): void;
  }

  export class Client {
    constructor(endpoint: string | object, options?: { timeout?: number; retry?: number });
    addExtension(extension: ClientExtension): void;
    setHeader(name: string, value: string): void;
    disable(feature: string): void;
    subscribe(channel: string, handler: (data: unknown) => void): Subscription;
    publish(channel: string, data: unknown): Thenable;
    connect(callback?: () => void): void;
    disconnect(): void;
    bind(event: string, handler: (...args: unknown[]) => void): void;
  }

  export class NodeAdapter {
    constructor(options: { mount: string; timeout?: number; ping?: number; engine?: object });
    /** Whether a request is for the Bayeux endpoint (its URL parsed, the path matched). */
    check(request: IncomingMessage): boolean;
    /** Answers an HTTP request for the endpoint: reads its body, processes its messages (or serves a static file). */
    handle(request: BayeuxRequest, response: ServerResponse): void;
    /** Takes over a websocket upgrade for the endpoint. */
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
    addExtension(extension: ServerExtension): void;
    getClient(): Client;
    on(event: 'handshake' | 'disconnect', handler: (clientId: string) => void): void;
    on(event: 'subscribe' | 'unsubscribe', handler: (clientId: string, channel: string) => void): void;
    close(): void;
  }

  const faye: { NodeAdapter: typeof NodeAdapter; Client: typeof Client; logger?: unknown };
  export default faye;
}
