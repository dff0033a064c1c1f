/**
 * Module: parsing a big engine answer without holding the event loop. One JSON.parse of a 52 MB image
 * list (200,000 images) blocks for 1-2 s; meanwhile no other request, host or /healthz is served.
 * A top-level array above SLICE_THRESHOLD bytes is cut at its top-level commas into slices of about
 * SLICE_BYTES, each parsed by JSON.parse (as `[slice]`) with a yield to the event loop between them.
 *
 * Written by hand, not with a streaming parser (stream-json, @streamparser/json): those build every
 * value token by token in JavaScript, several times slower than JSON.parse over the whole body, while
 * this only finds the cuts (one byte loop) and leaves the parsing to V8. A worker thread was the other
 * way, but the structured clone of 200,000 objects back to the main thread blocks about as long as the
 * parse itself (bench/results/big-host.md). The cut is safe: every slice must itself parse as a list
 * of values, so the body parses as a whole exactly when all slices do (an empty slice is refused).
 */

/** Bodies at most this big are parsed in one go (a few ms). */
export const SLICE_THRESHOLD = 4 * 1024 * 1024;
/** About this many bytes per slice: ~10-20 ms of JSON.parse on this machine. */
const SLICE_BYTES = 512 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown for a body that is not JSON (the caller says HOST_BAD_RESPONSE). */
export class MalformedJson extends Error {}

/**
 * From `from` (just after `[` or a top-level comma) to the next top-level `,` at or after `minEnd`, or
 * to the array's closing `]`. Strings are skipped with their escapes, so brackets inside them do not count.
 */
function cut(buf: Buffer, from: number, minEnd: number): { end: number; closing: boolean } {
  let depth = 0;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      for (i++; i < buf.length && buf[i] !== QUOTE; i++) if (buf[i] === BACKSLASH) i++;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) {
        if (c === 0x7d) throw new MalformedJson('unbalanced brackets');
        return { end: i, closing: true };
      }
      depth--;
    } else if (c === COMMA && depth === 0 && i >= minEnd) return { end: i, closing: false };
  }
  throw new MalformedJson('unterminated array');
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedJson('malformed JSON');
  }
}

/**
 * JSON.parse of `buf`, in slices with yields between them when it is a big top-level array.
 * Rejects with MalformedJson for anything JSON.parse would refuse; stops early once `signal` aborts.
 */
export async function parseJsonYielding(buf: Buffer, signal?: AbortSignal, sizes = { threshold: SLICE_THRESHOLD, slice: SLICE_BYTES }): Promise<unknown> {
  let start = 0;
  while (isSpace(buf[start])) start++;
  if (buf.length <= sizes.threshold || buf[start] !== 0x5b) return parse(buf.toString('utf8'));
  const out: unknown[] = [];
  let from = start + 1;
  for (let first = true; ; first = false) {
    const { end, closing } = cut(buf, from, from + sizes.slice);
    const slice = buf.toString('utf8', from, end);
    if (slice.trim() === '') {
      if (!(first && closing)) throw new MalformedJson('empty array element');
    } else {
      const values = parse(`[${slice}]`) as unknown[];
      for (let i = 0; i < values.length; i++) out.push(values[i]);
    }
    if (closing) {
      for (let i = end + 1; i < buf.length; i++) if (!isSpace(buf[i])) throw new MalformedJson('data after the array');
      return out;
    }
    from = end + 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw signal.reason;
  }
}
