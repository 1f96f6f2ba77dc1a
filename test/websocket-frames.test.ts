// The websocket message gate as a pure function over the bytes a client sends: frames split anywhere,
// masked, fragmented, with control frames between, are passed on unchanged once their message is judged.

import { expect } from 'chai';
import { closeFrame, MessageGate, type GateVerdict } from '../src/push/websocket-frames.ts';

/** A client frame (masked, as RFC 6455 requires of clients). */
function clientFrame(opcode: number, payload: string, fin = true): Buffer {
  const data = Buffer.from(payload, 'utf8');
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const length =
    data.length < 126 ? Buffer.from([0x80 | data.length]) : Buffer.from([0x80 | 126, data.length >> 8, data.length & 0xff]);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), length, mask, masked]);
}

const notJson = (text: string): string | undefined => {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    return 'not JSON';
  }
};

/** Feeds `bytes` in pieces of `size`, collecting what passes, until a refusal. */
function feedInPieces(gate: MessageGate, bytes: Buffer, size: number): { passed: Buffer; refusal?: GateVerdict } {
  const passed: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const verdict = gate.feed(bytes.subarray(i, i + size));
    if (!verdict.ok) return { passed: Buffer.concat(passed), refusal: verdict };
    passed.push(...verdict.pass);
  }
  return { passed: Buffer.concat(passed) };
}

describe('websocket message gate', () => {
  it('passes every byte of good messages unchanged, however the bytes are split', () => {
    const ping = clientFrame(0x9, 'ping');
    const stream = Buffer.concat([
      clientFrame(0x1, '[{"channel":"/meta/handshake"}]'),
      clientFrame(0x1, '[{"chan', false),
      ping,
      clientFrame(0x0, 'nel":"/meta/connect"}]'),
      clientFrame(0x1, JSON.stringify({ text: 'é'.repeat(200) })),
    ]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const { passed, refusal } = feedInPieces(new MessageGate(65_536, notJson), stream, size);
      expect(refusal, `pieces of ${size}`).to.equal(undefined);
      expect(passed.length).to.equal(stream.length);
      // The ping between the fragments goes on at once, the fragmented message after it, whole.
      expect(passed.subarray(0, 37).toString('hex')).to.equal(stream.subarray(0, 37).toString('hex'));
    }
  });

  it('refuses a whole message its check refuses (1007, with the reason), and passes none of it', () => {
    const gate = new MessageGate(65_536, notJson);
    const good = clientFrame(0x1, '{}');
    const verdicts = [gate.feed(good), gate.feed(clientFrame(0x1, '{"a":', false)), gate.feed(clientFrame(0x0, 'nope'))];
    expect(verdicts[0]).to.deep.equal({ ok: true, pass: [good.subarray(0, 6), good.subarray(6)] });
    expect(verdicts[1]).to.deep.equal({ ok: true, pass: [] });
    expect(verdicts[2]).to.deep.include({ ok: false, code: 1007, why: 'not JSON' });
    expect((verdicts[2] as { close: Buffer }).close.toString('hex')).to.equal(closeFrame(1007, 'not JSON').toString('hex'));
  });

  it('refuses a message over the limit (1009) as soon as its frame headers say so, before it is assembled', () => {
    const gate = new MessageGate(100, notJson);
    expect(gate.feed(clientFrame(0x1, 'x'.repeat(60), false)).ok).to.equal(true);
    const header = clientFrame(0x0, 'y'.repeat(60)).subarray(0, 6);
    expect(gate.feed(header)).to.deep.include({ ok: false, code: 1009, why: 'The message is larger than 100 bytes.' });
  });

  it('cuts a close reason to the 123 bytes a control frame may carry, on a character boundary', () => {
    const frame = closeFrame(1007, 'é'.repeat(100));
    expect(frame[1]).to.be.at.most(125);
    expect(frame.subarray(4).toString('utf8')).to.equal('é'.repeat(61));
  });
});
