/**
 * Module: an answer's JSON, written as UTF-8 bytes in slices, with a yield to the event loop between them.
 *
 * Why not `JSON.stringify(result)` and let yoga write the string: on 4000 images that text is ~1.5 MB,
 * one string in V8's large-object space (allocating and encoding such strings costs several times what
 * the same bytes cost in small pieces on this machine: bench/profile.ts), yoga's Response measures it
 * (Buffer.byteLength) and node encodes it again when writing (writeUtf8String), all in one synchronous
 * block that holds every other request (issue 11: no stall over 50 ms). Here the tree is walked down to
 * small subtrees, each is JSON.stringify'd (so the bytes are JSON.stringify's own), the text is encoded
 * in pieces of PIECE_CHARS, and after every SLICE_BYTES of output the walk yields (setImmediate) so
 * other requests run in between. The byte count stops the walk as soon as the answer passes the cap.
 */

/** Text is encoded to bytes at about this many characters (small strings stay in V8's young generation). */
const PIECE_CHARS = 16 * 1024;
/** Bytes written between two yields to the event loop (~1-2 ms of work here). */
export const SLICE_BYTES = 128 * 1024;
/** A subtree of at most this many values is stringified by one JSON.stringify call. */
const SMALL_VALUES = 64;
/** At most this many small list items are stringified by one JSON.stringify call. */
const RUN_ITEMS = 32;

/**
 * A value whose JSON is already written (as UTF-8 bytes, in pieces): a connection's nodes written by
 * direct-nodes.ts. The answer's walk copies its bytes as they are; anything else that serialises the
 * result gets the very values back from toJSON.
 */
export class PrewrittenJson {
  constructor(
    readonly parts: readonly Buffer[],
    /** Bytes in all parts. */
    readonly length: number,
  ) {}

  toJSON(): unknown {
    return JSON.parse(Buffer.concat(this.parts, this.length).toString('utf8'));
  }
}

/** Thrown inside the walk when the answer passes its cap. */
class Over extends Error {}

/** Whether `v` holds at most `budget.n` values (counted down; stops early once over). */
function small(v: unknown, budget: { n: number }): boolean {
  if (--budget.n < 0) return false;
  if (typeof v !== 'object' || v === null) return true;
  if (v instanceof PrewrittenJson) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!small(v[i], budget)) return false;
    return true;
  }
  for (const k in v) if (!small((v as Record<string, unknown>)[k], budget)) return false;
  return true;
}

class Writer {
  readonly parts: Buffer[] = [];
  bytes = 0;
  sinceYield = 0;
  private piece = '';
  constructor(private readonly maxBytes: number) {}

  add(text: string): void {
    this.piece += text;
    if (this.piece.length >= PIECE_CHARS) this.flush();
  }

  /** Bytes written already (a PrewrittenJson's): they follow the text added so far. */
  addBytes(bytes: Buffer): void {
    this.flush();
    this.bytes += bytes.length;
    this.sinceYield += bytes.length;
    if (this.bytes > this.maxBytes) throw new Over();
    this.parts.push(bytes);
  }

  flush(): void {
    if (this.piece === '') return;
    const bytes = Buffer.from(this.piece, 'utf8');
    this.piece = '';
    this.bytes += bytes.length;
    this.sinceYield += bytes.length;
    if (this.bytes > this.maxBytes) throw new Over();
    this.parts.push(bytes);
  }
}

/** What JSON.stringify leaves out of an object and writes as null in an array. */
const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * Writes `v` as JSON.stringify would, yielding (a generator step) after every SLICE_BYTES inside big
 * arrays and objects. Values with toJSON are stringified whole (JSON.stringify calls it with their key;
 * answers hold no such values in their data, so only '' vs the key could differ, and nothing here reads it).
 */
function* walk(v: unknown, out: Writer, sliceBytes: number): Generator<void, void, void> {
  if (v instanceof PrewrittenJson) {
    for (const part of v.parts) {
      out.addBytes(part);
      if (out.sinceYield >= sliceBytes) yield;
    }
    return;
  }
  if (typeof v !== 'object' || v === null || typeof (v as { toJSON?: unknown }).toJSON === 'function' || small(v, { n: SMALL_VALUES })) {
    out.add(JSON.stringify(v) ?? 'null');
    return;
  }
  if (Array.isArray(v)) {
    out.add('[');
    for (let i = 0; i < v.length; ) {
      if (i > 0) out.add(',');
      // A run of small items (the usual list of nodes) is stringified by one call, its brackets left out.
      let end = i;
      while (end < v.length && end - i < RUN_ITEMS && small(v[end], { n: SMALL_VALUES })) end++;
      if (end > i) {
        const run = JSON.stringify(end - i === v.length ? v : v.slice(i, end));
        out.add(run.slice(1, -1));
        i = end;
      } else {
        yield* walk(v[i], out, sliceBytes);
        i++;
      }
      if (out.sinceYield >= sliceBytes) yield;
    }
    out.add(']');
    return;
  }
  out.add('{');
  let first = true;
  for (const key of Object.keys(v)) {
    const item = (v as Record<string, unknown>)[key];
    if (skipped(item)) continue;
    out.add(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    yield* walk(item, out, sliceBytes);
    if (out.sinceYield >= sliceBytes) yield;
  }
  out.add('}');
}

/** An answer's bytes, in pieces of ~16 KiB (never joined: one big buffer costs more to fill than the pieces). */
export interface AnswerBytes {
  parts: Buffer[];
  length: number;
}

/**
 * The UTF-8 bytes of JSON.stringify(value), built in slices with a yield to the event loop after every
 * `sliceBytes`; undefined when they would pass `maxBytes` (the walk stops there). Rejects with the
 * signal's reason once `signal` aborts (checked at every yield).
 */
export async function answerBytes(value: unknown, maxBytes: number, signal?: AbortSignal, sliceBytes = SLICE_BYTES): Promise<AnswerBytes | undefined> {
  const out = new Writer(maxBytes);
  try {
    const steps = walk(value, out, sliceBytes);
    while (!steps.next().done) {
      out.sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    }
    out.flush();
  } catch (err) {
    if (err instanceof Over) return undefined;
    throw err;
  }
  return { parts: out.parts, length: out.bytes };
}
