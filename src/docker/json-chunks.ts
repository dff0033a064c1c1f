/**
 * Module: parsing a big engine answer without holding the event loop. One JSON.parse of a 52 MB image
 * list (200,000 images) blocks for 1-2 s; meanwhile no other request, host or /healthz is served.
 * A top-level array above SLICE_THRESHOLD bytes is cut at its top-level commas into slices of about
 * SLICE_CHARS characters, each parsed by JSON.parse (as `[slice]`), with a yield to the event loop after
 * every YIELD_CHARS. Small slices are also cheaper than one big string (see textPieces).
 *
 * Written by hand, not with a streaming parser (stream-json, @streamparser/json): those build every
 * value token by token in JavaScript, several times slower than JSON.parse over the whole body, while
 * this only finds the cuts (one character loop) and leaves the parsing to V8. A worker thread was the other
 * way, but the structured clone of 200,000 objects back to the main thread blocks about as long as the
 * parse itself (bench/results/big-host.md). The cut is safe: every slice must itself parse as a list
 * of values, so the body parses as a whole exactly when all slices do (an empty slice is refused).
 */
import { StringDecoder } from 'node:string_decoder';

/** Bodies at most this big are parsed in one go (well under a millisecond). */
export const SLICE_THRESHOLD = 64 * 1024;
/** About this many characters per JSON.parse call: small strings, cheap to build and to parse. */
const SLICE_CHARS = 32 * 1024;
/** About this many characters parsed between two yields to the event loop: ~10-20 ms of work on this machine. */
const YIELD_CHARS = 512 * 1024;
/** The body is decoded to text in pieces of at most this many bytes. */
const PIECE_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown for a body that is not JSON (the caller says HOST_BAD_RESPONSE). */
export class MalformedJson extends Error {}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedJson('malformed JSON');
  }
}

/**
 * The body's text in pieces of at most PIECE_BYTES bytes each. A big string costs several times what the
 * same text costs in small ones here (V8 puts strings over ~128 KiB in its large-object space; on this
 * machine filling fresh big allocations dominates: bench/profile.ts showed Buffer#toString of the image
 * lists as one of the largest items), so the body is never joined into one buffer or one string.
 * StringDecoder keeps a UTF-8 character that is cut between two pieces whole.
 */
function textPieces(chunks: readonly Buffer[]): string[] {
  const decoder = new StringDecoder('utf8');
  const out: string[] = [];
  for (const chunk of chunks)
    for (let i = 0; i < chunk.length; i += PIECE_BYTES) {
      const text = decoder.write(chunk.subarray(i, Math.min(chunk.length, i + PIECE_BYTES)));
      if (text) out.push(text);
    }
  const rest = decoder.end();
  if (rest) out.push(rest);
  return out;
}

export interface SliceSizes {
  /** Bodies up to this many bytes are parsed whole. */
  threshold: number;
  /** Characters per slice (at least; a slice ends at the next top-level comma). */
  slice: number;
  /** Characters parsed between two yields. */
  yieldAfter?: number;
}

/**
 * JSON.parse of the body (`chunks` as read, in order), in slices when it is a big top-level array:
 * the text is cut at top-level commas into slices of about `slice` characters, each parsed by JSON.parse
 * (as `[slice]`), with a yield to the event loop after every `yieldAfter` characters. Rejects with
 * MalformedJson for anything JSON.parse would refuse; stops early once `signal` aborts.
 */
export async function parseJsonYielding(
  chunks: Buffer | readonly Buffer[],
  signal?: AbortSignal,
  sizes: SliceSizes = { threshold: SLICE_THRESHOLD, slice: SLICE_CHARS, yieldAfter: YIELD_CHARS },
  memo?: ItemMemo,
): Promise<unknown> {
  const list = Buffer.isBuffer(chunks) ? [chunks] : chunks;
  let size = 0;
  for (const c of list) size += c.length;
  if (memo) {
    // The very bytes of the last answer: its values, as they were (no decoding, no scan).
    const same = memo.sameAnswer(list, size);
    if (same) return same;
  }
  if (size <= sizes.threshold && !memo) return parse((list.length === 1 ? list[0]! : Buffer.concat(list, size)).toString('utf8'));
  const texts = textPieces(list);
  let p = 0;
  let i = 0;
  for (; p < texts.length; p++, i = 0) {
    while (i < texts[p]!.length && isSpace(texts[p]!.charCodeAt(i))) i++;
    if (i < texts[p]!.length) break;
  }
  if (p === texts.length || texts[p]!.charCodeAt(i) !== 0x5b) return parse(texts.join(''));
  const values = await parseList(texts, p, i + 1, sizes, signal, memo);
  memo?.keepAnswer(list, size, values);
  return values;
}

/** Whether the bytes of `a` and `b` (each a list of chunks, cut anywhere) are the same. */
function sameBytes(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  let i = 0;
  let j = 0;
  let at = 0;
  let bt = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const n = Math.min(x.length - at, y.length - bt);
    if (n > 0 && x.compare(y, bt, bt + n, at, at + n) !== 0) return false;
    at += n;
    bt += n;
    if (at === x.length) {
      i++;
      at = 0;
    }
    if (bt === y.length) {
      j++;
      bt = 0;
    }
  }
  for (; i < a.length; i++, at = 0) if (a[i]!.length > at) return false;
  for (; j < b.length; j++, bt = 0) if (b[j]!.length > bt) return false;
  return true;
}

/** An item of a memo: its value, and the text it was parsed from (kept, so later answers' texts need not be). */
interface Remembered {
  text: string;
  value: unknown;
}

/**
 * The items of the last answer to one engine call (one host's image list), by their exact text. An
 * engine answers an unchanged image with the same bytes, so an item whose text is in the memo is not
 * parsed again: the value parsed from that text before is used (and its checked and normalised record,
 * which normalize.ts keeps by that value). Values are shared between answers: nothing may change them.
 * Only the last successful answer's items are kept (a changed or removed image drops out), and none when
 * that answer had more than MAX_ITEMS items.
 */
export class ItemMemo {
  static readonly MAX_ITEMS = 50_000;
  private last: { items: Remembered[]; index: Map<string, number> } = { items: [], index: new Map() };

  get size(): number {
    return this.last.items.length;
  }

  /** @internal parseList's: the last answer's items in order, and their positions by text. */
  current(): { items: readonly Remembered[]; index: ReadonlyMap<string, number> } {
    return this.last;
  }

  /** The last list answer's bytes and values (kept with its items, under the same cap). */
  private answer: { chunks: readonly Buffer[]; size: number; values: unknown[] } | undefined;

  /** @internal The values of the last list answer when `chunks` hold its very bytes (the same array each time). */
  sameAnswer(chunks: readonly Buffer[], size: number): unknown[] | undefined {
    const last = this.answer;
    return last && last.size === size && sameBytes(last.chunks, chunks) ? last.values : undefined;
  }

  /** @internal An array answer that parsed whole, with its items already in the memo (replace). */
  keepAnswer(chunks: readonly Buffer[], size: number, values: unknown[]): void {
    this.answer = values.length <= ItemMemo.MAX_ITEMS ? { chunks, size, values } : undefined;
  }

  /** @internal parseList's: the items of an answer that parsed whole replace the memo's. */
  replace(items: Remembered[]): void {
    if (items.length > ItemMemo.MAX_ITEMS) items = [];
    // (The texts were hashed when they were looked up: building the index does not read them again.)
    const index = new Map<string, number>();
    for (let i = 0; i < items.length; i++) index.set(items[i]!.text, i);
    this.last = { items, index };
  }
}

/**
 * The top-level array that starts at texts[p][i] (just after its `[`), cut at top-level commas. Strings
 * are skipped with their escapes, so brackets and commas inside them do not count. The cut is safe:
 * every slice must itself parse as a list of values, so the body parses as a whole exactly when all
 * slices do (an empty slice is refused).
 */
async function parseList(texts: string[], p: number, i: number, sizes: SliceSizes, signal?: AbortSignal, memo?: ItemMemo): Promise<unknown[]> {
  const out: unknown[] = [];
  // With a memo, the list is cut at every item: an item met before takes its value from the memo, the
  // others are parsed together (as one `[a,b,...]` of about `sizes.slice` characters) into their places.
  // Unchanged items mostly come in the same order: where the text at an item's start is the memo's next
  // item, followed by a comma or the closing bracket, that is the item (the scan would cut there: its
  // state after that text is the one it had when it cut it before), with no scan and no lookup.
  const before = memo?.current();
  const prev = before?.items;
  const next: Remembered[] = [];
  let expected = 0;
  let missed: Remembered[] = [];
  let missedAt: number[] = [];
  let missedChars = 0;
  const parseMissed = () => {
    if (missed.length === 0) return;
    const values = parse(`[${missed.map((m) => m.text).join(',')}]`) as unknown[];
    for (let k = 0; k < values.length; k++) {
      out[missedAt[k]!] = values[k];
      missed[k]!.value = values[k];
    }
    missed = [];
    missedAt = [];
    missedChars = 0;
  };
  const remember = (text: string) => {
    // An empty element (or only spaces) is refused, as JSON.parse would.
    if (text.length === 0 || ((isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1))) && text.trim() === '')) throw new MalformedJson('empty array element');
    const at = before!.index.get(text);
    if (at !== undefined) {
      const hit = prev![at]!;
      out.push(hit.value);
      next.push(hit);
      expected = at + 1;
    } else {
      const item: Remembered = { text, value: undefined };
      missedAt.push(out.length);
      out.push(undefined);
      missed.push(item);
      next.push(item);
      missedChars += text.length;
      if (missedChars >= sizes.slice) parseMissed();
    }
    first = false;
    sinceYield += text.length;
  };
  const yieldAfter = sizes.yieldAfter ?? YIELD_CHARS;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let carried: string[] = [];
  let carriedChars = 0;
  let sinceYield = 0;
  let first = true;
  /** Parses one slice's text (an empty one only as the whole of an empty array). */
  const take = (text: string, closing: boolean) => {
    if (before && !(first && closing && text.trim() === '')) return remember(text);
    if (text.trim() === '') {
      if (!(first && closing)) throw new MalformedJson('empty array element');
    } else {
      const values = parse(`[${text}]`) as unknown[];
      for (let k = 0; k < values.length; k++) out.push(values[k]);
    }
    first = false;
    sinceYield += text.length;
  };
  /** A yield to the event loop (every `yieldAfter` characters); stops here once `signal` aborts. */
  const pause = async () => {
    sinceYield = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw signal.reason;
  };
  /** The closing bracket's item came from the memo: nothing left to take there. */
  let closingTaken = false;
  for (; p < texts.length; p++, i = 0) {
    const t = texts[p]!;
    let from = i;
    for (; i < t.length; i++) {
      if (i === from && prev !== undefined && depth === 0 && !inString && carried.length === 0) {
        const hit = prev[expected];
        const end = hit === undefined ? 0 : i + hit.text.length;
        // (A slice compared with === is a memory compare; startsWith at a position was ~15x slower here.)
        if (hit !== undefined && end <= t.length && t.slice(i, end) === hit.text) {
          const after = end < t.length ? t.charCodeAt(end) : -1;
          if (after === COMMA || after === 0x5d) {
            out.push(hit.value);
            next.push(hit);
            expected++;
            first = false;
            sinceYield += hit.text.length;
            i = end;
            if (after === 0x5d) closingTaken = true;
            else {
              from = end + 1;
              if (sinceYield >= yieldAfter) await pause();
              continue;
            }
          }
        }
      }
      if (inString) {
        // Most of an image list is strings: jump to each quote (indexOf), and count the backslashes before it.
        if (escaped) {
          escaped = false;
          i++;
        }
        for (;;) {
          const q = t.indexOf('"', i);
          const end = q < 0 ? t.length : q;
          let slashes = 0;
          for (let k = end - 1; k >= i && t.charCodeAt(k) === BACKSLASH; k--) slashes++;
          if (q < 0) {
            // The string goes on in the next piece, whose first character is escaped after an odd run.
            escaped = slashes % 2 === 1;
            i = t.length;
            break;
          }
          if (slashes % 2 === 0) {
            inString = false;
            i = q;
            break;
          }
          i = q + 1;
        }
        continue;
      }
      const c = t.charCodeAt(i);
      if (c === QUOTE) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth > 0) {
          depth--;
          continue;
        }
        if (c === 0x7d) throw new MalformedJson('unbalanced brackets');
        if (!closingTaken) take(carried.join('') + t.slice(from, i), true);
        for (let k = i + 1; k < t.length; k++) if (!isSpace(t.charCodeAt(k))) throw new MalformedJson('data after the array');
        for (let q = p + 1; q < texts.length; q++) if (texts[q]!.trim() !== '') throw new MalformedJson('data after the array');
        if (memo) {
          parseMissed();
          memo.replace(next);
        }
        return out;
      } else if (c === COMMA && depth === 0 && (before !== undefined || carriedChars + i - from >= sizes.slice)) {
        take(carried.length ? carried.join('') + t.slice(from, i) : t.slice(from, i), false);
        carried = [];
        carriedChars = 0;
        from = i + 1;
        if (sinceYield >= yieldAfter) await pause();
      }
    }
    carried.push(t.slice(from));
    carriedChars += t.length - from;
  }
  throw new MalformedJson('unterminated array');
}
