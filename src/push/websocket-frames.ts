// What a client's websocket messages must be before faye reads them, judged from the bytes as they arrive
// (RFC 6455 §5): a message larger than the limit closes the connection (1009) before it is assembled
// (faye offers no such limit and its library would hold up to 64 MiB per message); a whole message whose
// text the check refuses closes it (1007) with the check's reason, instead of reaching faye, which would
// print the parse error's stack on stdout and answer nothing. Frames are passed on unchanged, a data
// message once all of it has passed the check; control frames at once. Pure: the door does the I/O.

/** The close frame of a server going away (1001), unmasked as server frames are. */
export const CLOSE_GOING_AWAY = closeFrame(1001);

/** What to do with the bytes read so far. */
export type GateVerdict =
  /** Hand these bytes to the websocket library, in order. */
  | { ok: true; pass: Buffer[] }
  /** Send `close` and end the connection; `why` is the reason it carries, in the client's terms. */
  | { ok: false; code: 1007 | 1009; close: Buffer; why: string };

/** A message's text judged: the reason it is refused, or undefined when it may pass. */
export type MessageCheck = (text: string) => string | undefined;

export class MessageGate {
  /** Header bytes of the frame being read, until it is complete. */
  private header: number[] = [];
  private frame: FrameHeader | undefined;
  /** Payload bytes of the current frame still to read. */
  private remaining = 0;
  /** Offset in the current frame's payload, for its mask. */
  private offset = 0;
  /** Raw frames of the data message being assembled, held until the message is judged. */
  private held: Buffer[] = [];
  /** The same message's payload, unmasked. */
  private payload: Buffer[] = [];
  private messageBytes = 0;
  private closed = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly check: MessageCheck,
  ) {}

  /** Counts and judges a chunk of the client's bytes (held as they are: a socket's chunks are never reused). */
  feed(chunk: Buffer): GateVerdict {
    const pass: Buffer[] = [];
    let i = 0;
    while (!this.closed && i < chunk.length) {
      if (!this.frame) {
        this.header.push(chunk[i++]);
        const frame = parseHeader(this.header);
        if (!frame) continue;
        const raw = Buffer.from(this.header);
        this.header = [];
        if (isData(frame.opcode)) {
          this.messageBytes += frame.length;
          if (this.messageBytes > this.maxMessageBytes)
            return this.refuse(1009, `The message is larger than ${this.maxMessageBytes} bytes.`);
          this.held.push(raw);
        } else {
          // Control frames may come between a message's frames, and are at most 125 bytes.
          if (frame.length > 125) return this.refuse(1009, 'A control frame is larger than 125 bytes.');
          pass.push(raw);
        }
        this.frame = frame;
        this.remaining = frame.length;
        this.offset = 0;
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        const bytes = chunk.subarray(i, i + take);
        i += take;
        this.remaining -= take;
        if (isData(this.frame.opcode)) {
          this.held.push(bytes);
          this.payload.push(unmask(bytes, this.frame.mask, this.offset));
        } else {
          pass.push(bytes);
        }
        this.offset += take;
      }
      if (this.frame && this.remaining === 0) {
        const { fin, opcode } = this.frame;
        this.frame = undefined;
        if (isData(opcode) && fin) {
          const reason = this.check(Buffer.concat(this.payload).toString('utf8'));
          if (reason !== undefined) return this.refuse(1007, reason);
          pass.push(...this.held);
          this.held = [];
          this.payload = [];
          this.messageBytes = 0;
        }
      }
    }
    return { ok: true, pass };
  }

  private refuse(code: 1007 | 1009, why: string): GateVerdict {
    this.closed = true;
    this.held = [];
    this.payload = [];
    return { ok: false, code, close: closeFrame(code, why), why };
  }
}

interface FrameHeader {
  fin: boolean;
  opcode: number;
  length: number;
  mask: Buffer | undefined;
}

/** Text, binary and continuation frames make messages; reserved opcodes go on to the library, which refuses them. */
const isData = (opcode: number): boolean => opcode <= 2;

/** A frame's header once all its bytes are there, else undefined. */
function parseHeader(bytes: number[]): FrameHeader | undefined {
  if (bytes.length < 2) return undefined;
  const short = bytes[1] & 0x7f;
  const masked = (bytes[1] & 0x80) !== 0;
  const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
  if (bytes.length < 2 + lengthBytes + (masked ? 4 : 0)) return undefined;
  let length = short;
  if (lengthBytes > 0) {
    length = 0;
    // 2^53 is far past any limit: a length that large only has to compare as too big.
    for (let k = 0; k < lengthBytes; k++) length = length * 256 + bytes[2 + k];
  }
  const mask = masked ? Buffer.from(bytes.slice(2 + lengthBytes, 6 + lengthBytes)) : undefined;
  return { fin: (bytes[0] & 0x80) !== 0, opcode: bytes[0] & 0x0f, length, mask };
}

function unmask(bytes: Buffer, mask: Buffer | undefined, offset: number): Buffer {
  if (!mask) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  for (let k = 0; k < bytes.length; k++) out[k] = bytes[k] ^ mask[(offset + k) & 3];
  return out;
}

/** A server's close frame (unmasked) with its status code and a reason cut to the 123 bytes a control frame allows. */
export function closeFrame(code: number, reason = ''): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123)
    text = Buffer.from(
      text
        .subarray(0, 123)
        .toString('utf8')
        .replace(/\uFFFD+$/, ''),
      'utf8',
    );
  const body = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), text]);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}
