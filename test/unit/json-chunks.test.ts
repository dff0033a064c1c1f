import { describe, expect, it } from 'vitest';
import { ItemMemo, MalformedJson, parseJsonYielding } from '../../src/docker/json-chunks.js';

/** Slices of a few bytes, so every cut case is met on small bodies. */
const tiny = { threshold: 0, slice: 3, yieldAfter: 3 };
const parse = (text: string) => parseJsonYielding(Buffer.from(text), undefined, tiny);

describe('parseJsonYielding (big lists parsed in slices)', () => {
  const valid = [
    '[]',
    ' [ ] ',
    '[1]',
    '[1,2,3,4,5,6,7,8,9,10]',
    '\n[ {"a":"x,]}[{\\"y"} , {"b":[1,[2,{"c":"\\\\"}]]}, "]", "\\\\\\"," ,null,true,false,-1.5e3 ]\n',
    '[{"Id":"sha256:1","RepoTags":["a:b","c,d]"],"Labels":{"k":"v}"}},{"Id":"é ünï ✓"}]',
    '{"Images":[1,2]}',
    '"text"',
    '42',
  ];
  it.each(valid)('parses %s as JSON.parse does', async (text) => {
    expect(await parse(text)).toEqual(JSON.parse(text));
    expect(await parseJsonYielding([...Buffer.from(text)].map((b) => Buffer.from([b])), undefined, tiny)).toEqual(JSON.parse(text));
  });

  it('parses a long list into the same values, in order', async () => {
    const list = Array.from({ length: 2000 }, (_, i) => ({ Id: `sha256:${i}`, RepoTags: [`t,[${i}]:"x"`], Labels: { i: String(i) } }));
    const text = JSON.stringify(list);
    expect(await parseJsonYielding(Buffer.from(text), undefined, { threshold: 0, slice: 1000 })).toEqual(list);
  });

  it('parses a body that came in many chunks, a UTF-8 character cut between two of them', async () => {
    const list = Array.from({ length: 3000 }, (_, i) => ({ Id: `sha256:${i}`, RepoTags: [`é ünï ✓ 𝄞 [${i}],"x"`], Labels: { 'ключ': `значение ${i}` } }));
    const bytes = Buffer.from(JSON.stringify(list));
    // Cuts every 1000 bytes: some land inside multi-byte characters.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000));
    expect(chunks.some((c) => (c[0]! & 0xc0) === 0x80)).toBe(true);
    expect(await parseJsonYielding(chunks)).toEqual(list);
    expect(await parseJsonYielding(chunks, undefined, { threshold: 0, slice: 100, yieldAfter: 500 })).toEqual(list);
  });

  it('parses a big object or scalar body whole', async () => {
    const df = { Images: Array.from({ length: 3000 }, (_, i) => ({ Id: `sha256:${i}`, SharedSize: i })), LayersSize: 1 };
    const bytes = Buffer.from(JSON.stringify(df));
    expect(await parseJsonYielding([bytes.subarray(0, 7), bytes.subarray(7)], undefined, { threshold: 0, slice: 10 })).toEqual(df);
  });

  const invalid = ['[1,]', '[,1]', '[1,,2]', '[1}', '[{"a":1]}]', '[1] x', '[1]]', '[', '[{"Id": ', '["abc', '[1 2]', '[{"a":"]"}'];
  it.each(invalid)('refuses %s like JSON.parse', async (text) => {
    expect(() => JSON.parse(text)).toThrow();
    await expect(parse(text)).rejects.toBeInstanceOf(MalformedJson);
    // and the same, one character per chunk
    await expect(parseJsonYielding([...Buffer.from(text)].map((b) => Buffer.from([b])), undefined, tiny)).rejects.toBeInstanceOf(MalformedJson);
  });

  it('stops once the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    const done = parseJsonYielding(Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => i))), controller.signal, tiny);
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
  });
});

describe('parseJsonYielding with an item memo (unchanged items are not parsed again)', () => {
  const image = (i: number, tag = 'a') => ({ Id: `sha256:${i}`, RepoTags: [`t,[${i}]:"${tag}"`], Labels: { 'é': `ü ${i}` } });
  const body = (list: unknown[], pretty = false) => Buffer.from(pretty ? JSON.stringify(list, null, 1) : JSON.stringify(list));

  it('gives the values parsed before to items whose text is unchanged, and parses the others', async () => {
    const memo = new ItemMemo();
    const first = Array.from({ length: 50 }, (_, i) => image(i));
    const a = (await parseJsonYielding(body(first), undefined, undefined, memo)) as unknown[];
    expect(a).toEqual(first);
    expect(memo.size).toBe(50);
    // Item 3 changed, item 7 removed, one added at the front.
    const second = [image(99), ...first.filter((_, i) => i !== 7).map((x, i) => (i === 3 ? image(3, 'b') : x))];
    const b = (await parseJsonYielding(body(second), undefined, undefined, memo)) as unknown[];
    expect(b).toEqual(second);
    expect(b[1]).toBe(a[0]);
    expect(b[4]).not.toBe(a[3]);
    expect(b[5]).toBe(a[4]);
    expect(b.filter((x) => a.includes(x))).toHaveLength(48);
    // Only the last answer's items are kept.
    expect(memo.size).toBe(50);
  });

  it('keys items by their exact text: spacing or order inside an item is another text', async () => {
    const memo = new ItemMemo();
    const list = Array.from({ length: 5 }, (_, i) => image(i));
    const a = (await parseJsonYielding(body(list), undefined, undefined, memo)) as unknown[];
    const b = (await parseJsonYielding(body(list, true), undefined, undefined, memo)) as unknown[];
    expect(b).toEqual(list);
    for (let i = 0; i < 5; i++) expect(b[i]).not.toBe(a[i]);
  });

  it('parses the same values whatever the chunks and slice sizes', async () => {
    const list = Array.from({ length: 300 }, (_, i) => ({ Id: `sha256:${i}`, RepoTags: [`é ünï ✓ 𝄞 [${i}],"x"`] }));
    const bytes = body(list);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 333) }, (_, i) => bytes.subarray(i * 333, (i + 1) * 333));
    const memo = new ItemMemo();
    for (const sizes of [undefined, { threshold: 0, slice: 50, yieldAfter: 200 }, tiny]) {
      expect(await parseJsonYielding(chunks, undefined, sizes, memo)).toEqual(list);
    }
  });

  const invalid = [
    ...['[1,]', '[,1]', '[1,,2]', '[1, ,2]', '[1}', '[{"a":1]}]', '[1] x', '[1]]', '[', '[{"Id": ', '["abc', '[1 2]', '[{"a":"]"}', '[1,2,3'],
    // the remembered answer itself, spoiled after its items: cut short, a trailing comma, data after it
    ...['[1,2,3,{"a":1},"abc"', '[1,2,3,{"a":1},"abc",]', '[1,2,3,{"a":1},"abc"]x', '[1,2,3,{"a":1},"abc"]]', '[1,2,3,{"a":1},"abc"}', '[1,2,3,{"a":1}"abc"]'],
  ];
  it.each(invalid)('refuses %s like JSON.parse, with items of it in the memo', async (text) => {
    const memo = new ItemMemo();
    await parseJsonYielding(Buffer.from('[1,2,3,{"a":1},"abc"]'), undefined, undefined, memo);
    await expect(parseJsonYielding(Buffer.from(text), undefined, undefined, memo)).rejects.toBeInstanceOf(MalformedJson);
    // A refused answer leaves the memo as it was.
    expect(memo.size).toBe(5);
  });

  it('finds unchanged items in their old order, and again after items were inserted, removed or moved', async () => {
    const memo = new ItemMemo();
    const list = Array.from({ length: 200 }, (_, i) => image(i));
    const a = (await parseJsonYielding(body(list), undefined, undefined, memo)) as unknown[];
    const moved = [list[150], ...list.slice(0, 10), image(1000), ...list.slice(12, 150), ...list.slice(151), list[10]];
    const b = (await parseJsonYielding(body(moved), undefined, undefined, memo)) as unknown[];
    expect(b).toEqual(moved);
    expect(b[0]).toBe(a[150]);
    expect(b[11]).not.toBe(a[10]);
    expect(b[b.length - 1]).toBe(a[10]);
    expect(b.filter((x) => a.includes(x))).toHaveLength(moved.length - 1);
  });

  it('answers the very same values for the very same bytes, however they were cut', async () => {
    const memo = new ItemMemo();
    const list = Array.from({ length: 100 }, (_, i) => image(i));
    const bytes = body(list);
    const cut = (n: number) => [Buffer.alloc(0), ...Array.from({ length: Math.ceil(bytes.length / n) }, (_, i) => bytes.subarray(i * n, (i + 1) * n)), Buffer.alloc(0)];
    const a = await parseJsonYielding(bytes, undefined, undefined, memo);
    expect(await parseJsonYielding(cut(777), undefined, undefined, memo)).toBe(a);
    expect(await parseJsonYielding(cut(1), undefined, tiny, memo)).toBe(a);
    // One byte changed (in the last item), one byte more, one byte less: parsed, not the same answer.
    for (const other of [Buffer.from(bytes.toString().replace(/"t,\[99\]/, '"t,[98]')), Buffer.concat([bytes, Buffer.from(' ')]), bytes.subarray(0, bytes.length - 1)]) {
      const again = parseJsonYielding(other, undefined, undefined, memo);
      if (other.length === bytes.length - 1) await expect(again).rejects.toBeInstanceOf(MalformedJson);
      else {
        const got = (await again) as unknown[];
        expect(got).not.toBe(a);
        expect(got).toEqual(JSON.parse(other.toString()));
      }
    }
  });

  it('keeps nothing for an answer over MAX_ITEMS items', async () => {
    const memo = new ItemMemo();
    const list = Array.from({ length: ItemMemo.MAX_ITEMS + 1 }, (_, i) => i);
    expect(await parseJsonYielding(body(list), undefined, undefined, memo)).toEqual(list);
    expect(memo.size).toBe(0);
  });

  it('parses bodies that are not arrays, and the empty array, as JSON.parse does', async () => {
    const memo = new ItemMemo();
    for (const text of ['[]', ' [ ] ', '{"a":[1,2]}', '"x"', '7']) expect(await parseJsonYielding(Buffer.from(text), undefined, undefined, memo)).toEqual(JSON.parse(text));
  });
});
