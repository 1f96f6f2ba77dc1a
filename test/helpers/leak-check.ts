// Mocha root hooks: a test file that leaves behind something keeping the process alive (a timer, a
// socket, a server, a child process, a watcher) fails the run with the list of what remains. Mocha runs
// without --exit, so such a handle would otherwise hang the run, or keep a worker busy in --parallel.
// Under --parallel the hooks run around each file (in its worker), so a leak is blamed on its file.
// LEAK_STACKS=1 also prints where each timer still pending was created.

import type { RootHookObject } from 'mocha';

/** How long what a file closed may take to be gone (sockets closing, a child's pipes draining). */
const GRACE_MS = 2000;
/** After a leak is reported, how long mocha may take to print the results before the process is ended. */
const EXIT_AFTER_MS = 5000;

let atStart: string[] = [];

/** What is alive now that was not when the file started: one entry per resource type, with its count. */
function leaked(): string[] {
  const count = (list: string[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const type of list) counts.set(type, (counts.get(type) ?? 0) + 1);
    return counts;
  };
  const before = count(atStart);
  const extra: string[] = [];
  for (const [type, n] of count(process.getActiveResourcesInfo())) {
    const more = n - (before.get(type) ?? 0);
    if (more > 0) extra.push(`${type} x${more}`);
  }
  return extra;
}

/** Timers pending, with the stack that created each (only with LEAK_STACKS=1: a stack per timer is costly). */
const pendingTimers = new Map<NodeJS.Timeout, string>();
if (process.env.LEAK_STACKS) {
  const {
    setTimeout: realTimeout,
    setInterval: realInterval,
    clearTimeout: realClear,
    clearInterval: realClearInterval,
  } = globalThis;
  const track = (timer: NodeJS.Timeout): NodeJS.Timeout => {
    pendingTimers.set(timer, new Error('timer created').stack ?? '');
    return timer;
  };
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: NodeJS.Timeout = realTimeout(
      (...a: unknown[]) => {
        pendingTimers.delete(timer);
        fn(...a);
      },
      ms,
      ...args,
    );
    return track(timer);
  }) as typeof setTimeout;
  globalThis.setInterval = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    track(realInterval(fn, ms, ...args))) as typeof setInterval;
  globalThis.clearTimeout = ((timer?: NodeJS.Timeout) => {
    if (timer) pendingTimers.delete(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((timer?: NodeJS.Timeout) => {
    if (timer) pendingTimers.delete(timer);
    realClearInterval(timer);
  }) as typeof clearInterval;
}

function timerStacks(): string {
  const stacks = [...pendingTimers]
    .filter(([timer]) => timer.hasRef())
    .map(([, stack]) => stack.split('\n').slice(2, 9).join('\n'));
  return stacks.length > 0 ? `\ntimers pending, created at:\n${stacks.join('\n--\n')}` : '';
}

// Both hooks take `done` so that mocha starts its own timer for the hook before calling it: the snapshot at
// the start and every look at the end count that one timer alike.
export const mochaHooks: RootHookObject = {
  beforeAll(done) {
    atStart = process.getActiveResourcesInfo();
    done();
  },
  afterAll(done) {
    const files = [...new Set((this.test?.parent?.suites ?? []).map((suite) => suite.file))].join(', ');
    const deadline = Date.now() + GRACE_MS;
    const look = (): void => {
      const left = leaked();
      if (left.length === 0) return done();
      // Looked at from setImmediate: inside its own callback a timer still counts as alive.
      if (Date.now() < deadline) return void setTimeout(() => setImmediate(look), 25);
      // The leaked handle keeps the process alive: end it once mocha has reported (a worker is ended by its pool).
      if (process.env.MOCHA_WORKER_ID === undefined) setTimeout(() => process.exit(1), EXIT_AFTER_MS).unref();
      done(
        new Error(
          `handles left open by ${files || 'the tests'} (${GRACE_MS} ms after the last test ended): ${left.join(', ')}; ` +
            'close every server, socket, timer, watcher and child process a test starts (LEAK_STACKS=1 shows where timers were made)' +
            timerStacks(),
        ),
      );
    };
    look();
  },
};
