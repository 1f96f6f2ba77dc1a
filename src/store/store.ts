// The storage interface the chat domain sees: keys holding JSON values that expire, and an atomic
// read-modify-write of one key. Which backend sits behind it is chosen in open-store.ts.
//
// Values are shared snapshots (copy-on-write). A value returned by `get` or `entries`, the `current`
// value handed to an update function, and a value once given to `set` or written by an update, may be
// the very object other readers hold (the embedded store keeps hot values in memory and hands them out
// without a copy, so that a read costs no JSON work). They must never be changed: an update function
// builds and returns a new value, copying only what it changes (a shallow copy of the record, a slice
// of the array it appends to). Then a failed update, whether its function throws or its write fails,
// leaves every reader's value as it was.

/** What an update function decides: write `value` (with its time to live), delete the key, or leave it. */
export type Change<T, R> = (
  | { write: T; ttlMs: number; result: R }
  | { remove: true; result: R }
  | { result: R }
) & {
  /** Runs once the change is stored, still inside the key's lock: observers see changes in order. */
  committed?: () => void;
};

/** `current` is a shared snapshot: never change it; write a new value instead (see the module comment). */
export type Updater<T, R> = (current: T | undefined) => Change<T, R> | Promise<Change<T, R>>;

export interface Store {
  /** A shared snapshot: read it, never change it. */
  get<T>(key: string): Promise<T | undefined>;
  /** From this call on `value` belongs to the store: the caller must not change it any more. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Reads `key`, hands its value to `fn`, and applies what `fn` decides, with no other update of the
   * same key in between, on this node or (for shared backends) any other.
   */
  update<T, R>(key: string, fn: Updater<T, R>): Promise<R>;
  /** Every live key under a prefix, with its value (expired entries are skipped and removed). */
  entries<T>(prefix: string): AsyncIterable<[string, T]>;
  close(): Promise<void>;
}

/** Serialises work on one key. The embedded store needs it per process; Redis needs it across nodes. */
export interface KeyLock {
  withLock<R>(key: string, fn: () => Promise<R>): Promise<R>;
  close(): Promise<void>;
}
