// Graceful shutdown under load: the gateway runs as its own process on a SQLite file, customers keep
// sending, SIGTERM arrives mid-stream. After a restart on the same file, every request that was
// answered 2xx is there: no accepted message or session is lost.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { expect } from 'chai';
import { GATEWAY_MAIN, ROOT } from './helpers/built.ts';
import { makeTempDir, request } from './helpers/gateway.ts';

const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `npm start`'s entry point as a child process and waits for it to say where it listens. */
async function startProcess(dir: string): Promise<Running> {
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICES_DIR: path.join(dir, 'services.d'),
      ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
      STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`the gateway exited with ${code} before listening`)));
  });
  return { child, url, exited };
}

describe('graceful shutdown under load', function () {
  this.timeout(60_000);
  // A failed test must not leave a gateway process behind.
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('SIGTERM while customers send: every request answered 2xx is in the store after a restart', async () => {
    const dir = await makeTempDir('gms-shutdown-');
    await fs.mkdir(path.join(dir, 'services.d'));
    await fs.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
    await fs.mkdir(path.join(dir, 'endpoints.d'));
    await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
    const first = await startProcess(dir);

    const post = (url: string, p: string, body: Record<string, string> = {}) => request(url, 'POST', p, body);
    const chats: { id: string; acked: string[] }[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await post(first.url, '/genesys/1/service/request-chat');
      expect(created.status).to.equal(200);
      expect((await post(first.url, `/genesys/1/service/${created.body._id}/ixn/chat`, { firstName: `C${i}` })).status).to.equal(
        200,
      );
      chats.push({ id: created.body._id as string, acked: [] });
    }
    const createdSessions: string[] = [];
    let acked = 0;
    let stopped = false;
    let terminated = false;
    let signalledAt = 0;
    const signalAt = 400;

    const customer = async (chat: { id: string; acked: string[] }): Promise<void> => {
      for (let n = 0; !stopped; n++) {
        const text = `m${n}`;
        try {
          const reply = await post(first.url, `/genesys/1/service/${chat.id}/ixn/chat/send`, { message: text });
          if (reply.status >= 200 && reply.status < 300) chat.acked.push(text);
          else expect.fail(`send answered ${reply.status} ${JSON.stringify(reply.body)}`);
        } catch (err) {
          if (!terminated) throw err;
          return; // the gateway is gone: this customer stops
        }
        if (++acked === signalAt) {
          terminated = true;
          signalledAt = Date.now();
          first.child.kill('SIGTERM');
        }
      }
    };
    const creator = async (): Promise<void> => {
      while (!stopped) {
        try {
          const reply = await post(first.url, '/genesys/1/service/request-chat');
          if (reply.status === 200) createdSessions.push(reply.body._id as string);
          else expect.fail(`create answered ${reply.status} ${JSON.stringify(reply.body)}`);
        } catch (err) {
          if (!terminated) throw err;
          return;
        }
      }
    };

    const traffic = Promise.all([...chats.map(customer), creator(), creator()]);
    const code = await first.exited;
    const stopMs = Date.now() - signalledAt;
    stopped = true;
    await traffic;
    expect(code, 'exit code').to.equal(0);
    expect(terminated).to.equal(true);
    expect(stopMs, 'time to stop after SIGTERM').to.be.below(3000);

    const second = await startProcess(dir);
    try {
      let total = 0;
      for (const chat of chats) {
        const reply = await post(second.url, `/genesys/1/service/${chat.id}/ixn/chat/refreshFromStart`);
        expect(reply.status).to.equal(200);
        const texts = (reply.body.transcriptToShow as string[][]).filter((e) => e[0] === 'Message.Text').map((e) => e[2]);
        // Every acknowledged message is there, in order; at most the one in flight may be there unacknowledged.
        expect(texts.slice(0, chat.acked.length)).to.deep.equal(chat.acked);
        expect(texts.length - chat.acked.length).to.be.within(0, 1);
        total += chat.acked.length;
      }
      expect(total).to.be.at.least(signalAt);
      for (const id of createdSessions) {
        const reply = await post(second.url, `/genesys/1/service/${id}/ixn/chat/refresh`);
        expect(reply.body.exception, `session ${id}`).to.equal('ChatNotStarted');
      }
      console.log(
        `      shutdown: ${total} messages and ${createdSessions.length} sessions acknowledged, all kept; stopped ${stopMs} ms after SIGTERM`,
      );
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).to.equal(0);
    }
  });
});
