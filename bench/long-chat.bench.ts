// Sends into long chats on the embedded SQLite store, against a bare Koa "hello" server measured in the
// same run: what one message costs when the chats already hold ~10, ~100 and ~1,000 events. A send
// writes the session's record and, every 32 events, a sealed chunk of the transcript
// (src/chat/session-records.ts), so its cost should not grow with the chat. Each row is a fixed number
// of sends (60 per chat, after load.ts's 2 s warm-up), so that the chats stay near their size while
// measured; the server's CPU per send is the figure to compare (requests per second over a few seconds
// swing more).

import type { Request } from 'autocannon';
import { FORM, inBatches, startChat, type ChatContext } from './lib/chats.ts';
import { startBenchGateway, startHelloKoa } from './lib/gateway.ts';
import { load, printTable, SECONDS, type Figures } from './lib/load.ts';

const CHATS = 200;
const SIZES = [10, 100, 1000];
const SENDS_PER_CHAT = 60;

const koa = await startHelloKoa();
const bare = await load('bare Koa "hello" (GET)', { url: koa.url }, koa);
await koa.stop();

const gateway = await startBenchGateway();
try {
  const chats = (await inBatches(CHATS, 50, () => startChat(gateway.url))).map((chat) => chat.id);
  const send: Request = {
    method: 'POST',
    headers: FORM,
    setupRequest: (req, context) => {
      const id = ((context as ChatContext).id = chats[Math.floor(Math.random() * chats.length)]!);
      return { ...req, path: `/genesys/1/service/${id}/ixn/chat/send`, body: 'message=Hello%2C%20is%20anyone%20there%3F' };
    },
  };
  const rows: Figures[] = [];
  let events = 1;
  for (const size of SIZES) {
    // Fills every chat up to `size` events, one send after another per chat.
    const missing = Math.max(0, size - events);
    await inBatches(CHATS, 50, async (i) => {
      for (let n = 0; n < missing; n++) {
        const reply = await fetch(`${gateway.url}/genesys/1/service/${chats[i]}/ixn/chat/send`, {
          method: 'POST',
          headers: FORM,
          body: 'message=filling',
        });
        if (reply.status !== 200) throw new Error(`send failed: ${reply.status}`);
        await reply.arrayBuffer();
      }
    });
    const row = await load(
      `send into chats of ~${size} events`,
      { url: gateway.url, requests: [send], amount: SENDS_PER_CHAT * CHATS },
      gateway,
    );
    rows.push(row);
    events = size + SENDS_PER_CHAT + 40;
  }
  printTable(bare, rows, 'SQLite file', `bare Koa ${SECONDS} s, each send row ${SENDS_PER_CHAT * CHATS} sends`);
  const first = rows[0].serverCpuUs;
  const last = rows[rows.length - 1].serverCpuUs;
  if (first !== undefined && last !== undefined) {
    console.log(`server CPU per send at ~${SIZES[SIZES.length - 1]} events: ${(last / first).toFixed(2)} x that at ~${SIZES[0]}`);
  }
} finally {
  await gateway.close();
}
