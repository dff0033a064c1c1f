import { describe, expect, it } from 'vitest';
import { MalformedJson, parseJsonYielding } from '../../src/docker/json-chunks.js';

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
