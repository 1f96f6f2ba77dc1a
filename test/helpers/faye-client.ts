// Ends a faye (Bayeux) test client for good. disconnect() alone is not enough: it is sent only by a
// connected client and closes the transport only once the server confirms, and a client whose server
// is gone (or went while the disconnect was on its way) retries its last message every few seconds,
// forever: a timer that keeps the test process alive.

import type faye from 'faye';

type Client = InstanceType<typeof faye.Client>;

/** The parts of faye's client that hold its retries (faye documents no way to cancel them). */
interface ClientInternals {
  _state: number;
  DISCONNECTED: number;
  _dispatcher: { _envelopes: Map<string, { timer: NodeJS.Timeout | null }>; close(): void };
}

/** How long a disconnect may wait for the server's answer before the client is closed anyway. */
const ANSWER_MS = 1000;

export async function closeFayeClient(client: Client): Promise<void> {
  const disconnecting = client.disconnect() as unknown as PromiseLike<unknown> | undefined;
  if (disconnecting) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>(
        (resolve) =>
          void disconnecting.then(
            () => resolve(),
            () => resolve(),
          ),
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ANSWER_MS))),
    ]);
    clearTimeout(timer);
  }
  const internals = client as unknown as ClientInternals;
  // No handshake is tried again, no message sent again, and the transport (a long-poll, a websocket) is closed.
  internals._state = internals.DISCONNECTED;
  for (const envelope of internals._dispatcher._envelopes.values()) if (envelope.timer) clearTimeout(envelope.timer);
  internals._dispatcher._envelopes.clear();
  internals._dispatcher.close();
}

/** Closes every client of the list, and empties it. */
export async function closeFayeClients(clients: Client[]): Promise<void> {
  await Promise.all(clients.splice(0).map(closeFayeClient));
}
