// How large a websocket message a client may send, counted from the frame headers as the bytes arrive
// (RFC 6455 §5.2), before the websocket library assembles the message: faye offers no such limit and
// its library would hold up to 64 MiB per message. A pure byte counter; the door closes the socket.

/** The close frame a server sends for a message too big (1009), unmasked as server frames are. */
export const CLOSE_TOO_BIG = Buffer.from([0x88, 0x02, 0x03, 0xf1]);
/** The close frame of a server going away (1001). */
export const CLOSE_GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

export class FrameMeter {
  /** Header bytes of the frame being read, until it is complete. */
  private header: number[] = [];
  /** Payload bytes of the current frame still to skip. */
  private remaining = 0;
  /** Payload bytes of the data message being assembled (its frames until FIN). */
  private message = 0;
  private over = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Counts a chunk of the client's bytes; false once a message is larger than the limit. */
  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (!this.over && i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      this.header.push(chunk[i++]);
      const frame = parseHeader(this.header);
      if (!frame) continue;
      this.header = [];
      this.remaining = frame.length;
      // Control frames (opcode 8 and above) may come between a message's frames; they are not part of it.
      if (frame.opcode < 8) {
        this.message += frame.length;
        if (this.message > this.maxMessageBytes) this.over = true;
        if (frame.fin) this.message = 0;
      } else if (frame.length > 125) {
        this.over = true;
      }
    }
    return !this.over;
  }
}

interface FrameHeader {
  fin: boolean;
  opcode: number;
  length: number;
}

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
  return { fin: (bytes[0] & 0x80) !== 0, opcode: bytes[0] & 0x0f, length };
}
