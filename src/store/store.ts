// The storage interface the chat domain sees: keys holding JSON values that expire, sorted sets of
// members (queues and indices), and an atomic change: one key read, decided on, and written together
// with every other key and set member the decision touches, all or nothing, on every backend.
// Which backend sits behind it is chosen in open-store.ts.
//
// Values are shared snapshots (copy-on-write). A value returned by `get` or `entries`, the `current`
// value handed to an update function, and a value once written, may be the very object other readers
// hold (the embedded store keeps hot values in memory and hands them out without a copy, so that a read
// costs no JSON work). They must never be changed: an update function builds and returns a new value,
// copying only what it changes. Then a failed update, whether its function throws or its write fails,
// leaves every reader's value as it was.

/**
 * One part of an atomic write. Sets hold members (strings) ordered by a score. A member derived from a
 * record (a session's places) names that record's key as its `owner`, always the same one: the embedded
 * store keeps a record's members beside the record, so that a change writes them on the record's own page
 * and deleting the record takes them out of their sets. A member given without an owner costs the embedded
 * store a search of its set (repairs only).
 */
export type Op =
  | { kind: 'set'; key: string; value: unknown; ttlMs: number }
  | { kind: 'delete'; key: string }
  | { kind: 'add'; set: string; member: string; score: number; owner?: string }
  | { kind: 'remove'; set: string; member: string; owner?: string };

/** What an update function decides: write `value` (with its time to live), delete the key, or leave it. */
export type Change<T, R> = ({ write: T; ttlMs: number; result: R } | { remove: true; result: R } | { result: R }) & {
  /** Other keys and set members changed in the same atomic write. */
  also?: Op[];
  /** Runs once the change is stored, still inside the key's lock: observers see changes in order. */
  committed?: () => void;
};

/** `current` is a shared snapshot: never change it; write a new value instead (see the module comment). */
export type Updater<T, R> = (current: T | undefined) => Change<T, R> | Promise<Change<T, R>>;

export interface Store {
  /** A shared snapshot: read it, never change it. */
  get<T>(key: string): Promise<T | undefined>;
  /**
   * The value this process holds in memory for `key`, without reading the backend: a shared snapshot
   * as current as `get`'s, or undefined when none is held here (never held by a store other nodes write).
   */
  peek<T>(key: string): T | undefined;
  /** From this call on `value` belongs to the store: the caller must not change it any more. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Applies every op, or none (for ops that need no read first). */
  write(ops: Op[]): Promise<void>;
  /**
   * Reads `key`, hands its value to `fn`, and applies what `fn` decides (with its `also` ops) as one
   * atomic write, with no other update of the same key in between, on this node or any other.
   */
  update<T, R>(key: string, fn: Updater<T, R>): Promise<R>;
  /** A set's members, lowest score first. */
  members(set: string): Promise<string[]>;
  /** How many members a set has, at the cost of one read whatever its size. */
  count(set: string): Promise<number>;
  /** Up to `limit` members scored `maxScore` or less, lowest score first (the due part of an index). */
  upTo(set: string, maxScore: number, limit: number): Promise<string[]>;
  /** Every live key under a prefix, with its value. */
  entries<T>(prefix: string): AsyncIterable<[string, T]>;
  close(): Promise<void>;
}

/** Proof that a lock is still held, checked by the backend inside the write it guards (Redis). */
export interface Fence {
  lockKey: string;
  token: string;
}

/** Serialises work on one key. The embedded store needs it per process; Redis needs it across nodes. */
export interface KeyLock {
  withLock<R>(key: string, fn: (fence?: Fence) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

/** A stored value as backends keep it (keyv's row format, so that files and keys of earlier versions read). */
export interface Row {
  value: unknown;
  /** Milliseconds since the epoch; absent for no expiry. */
  expires?: number;
}

/** What each backend provides: reads, one atomic write of many ops, sets, and a scan. */
export interface Backend {
  read(key: string): Promise<Row | undefined>;
  commit(ops: Op[], fence?: Fence): Promise<void>;
  members(set: string): Promise<string[]>;
  count(set: string): Promise<number>;
  upTo(set: string, maxScore: number, limit: number): Promise<string[]>;
  /** Live values under a prefix; expired rows met on the way are removed (unless rewritten meanwhile). */
  scan(prefix: string): AsyncIterable<[string, unknown]>;
  close(): Promise<void>;
}
