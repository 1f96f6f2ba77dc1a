// The part of the `ws` client the tests use (the package ships no types): a websocket to the gateway,
// its messages, its close code and reason, and the answer to an upgrade the server refused.

declare module 'ws' {
  import type { ClientRequest, IncomingMessage } from 'node:http';

  export default class WebSocket {
    static readonly OPEN: number;
    readonly readyState: number;
    constructor(url: string, options?: { origin?: string; headers?: Record<string, string> });
    send(data: string | Buffer): void;
    close(code?: number): void;
    on(event: 'open', listener: () => void): this;
    on(event: 'message', listener: (data: Buffer) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'message', listener: (data: Buffer) => void): this;
    once(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
  }
}
