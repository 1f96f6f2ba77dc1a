// The socket faye's websocket library reads from, in place of the client's connection: what the client
// sends reaches it only through a MessageGate (websocket-frames.ts); what the library writes goes
// straight to the client. A refused message closes the connection with the gate's close frame.

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { MessageGate } from './websocket-frames.ts';

/** The connection as faye's library uses it: a stream with the socket's timeout and Nagle settings. */
export type GatedSocket = Duplex & { setTimeout(ms: number): void; setNoDelay(noDelay?: boolean): void };

/**
 * Wraps `socket`, starting with `passed` (what the gate let through of the upgrade's own bytes); `refused`
 * is told why when the gate closes the connection.
 */
export function gatedSocket(socket: Duplex, passed: Buffer[], gate: MessageGate, refused: (why: string) => void): GatedSocket {
  const inner = new Duplex({
    allowHalfOpen: false,
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => {
      socket.end();
      done();
    },
    destroy: (err, done) => {
      socket.destroy();
      done(err);
    },
  });
  const take = (chunk: Buffer): void => {
    const verdict = gate.feed(chunk);
    if (!verdict.ok) {
      socket.off('data', take);
      // Nothing more is read: the close frame goes out, then the connection is gone.
      socket.pause();
      refused(verdict.why);
      if (socket.writable) socket.write(verdict.close, () => socket.destroy());
      else socket.destroy();
      return;
    }
    for (const bytes of verdict.pass) if (!inner.push(bytes)) socket.pause();
  };
  for (const bytes of passed) inner.push(bytes);
  socket.on('data', take);
  socket.on('end', () => inner.push(null));
  socket.on('close', () => inner.destroy());
  socket.on('error', (err) => inner.destroy(err));
  const tcp = socket as Partial<Socket>;
  return Object.assign(inner, {
    setTimeout: (ms: number) => void tcp.setTimeout?.(ms),
    setNoDelay: (noDelay?: boolean) => void tcp.setNoDelay?.(noDelay),
  });
}
