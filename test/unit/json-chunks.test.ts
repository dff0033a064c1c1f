import { describe, expect, it } from 'vitest';
import { MalformedJson, parseJsonYielding } from '../../src/docker/json-chunks.js';

/** Slices of a few bytes, so every cut case is met on small bodies. */
const tiny = { threshold: 0, slice: 3 };
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
  });

  it('parses a long list into the same values, in order', async () => {
    const list = Array.from({ length: 2000 }, (_, i) => ({ Id: `sha256:${i}`, RepoTags: [`t,[${i}]:"x"`], Labels: { i: String(i) } }));
    const text = JSON.stringify(list);
    expect(await parseJsonYielding(Buffer.from(text), undefined, { threshold: 0, slice: 1000 })).toEqual(list);
  });

  const invalid = ['[1,]', '[,1]', '[1,,2]', '[1}', '[{"a":1]}]', '[1] x', '[1]]', '[', '[{"Id": ', '["abc', '[1 2]', '[{"a":"]"}'];
  it.each(invalid)('refuses %s like JSON.parse', async (text) => {
    expect(() => JSON.parse(text)).toThrow();
    await expect(parse(text)).rejects.toBeInstanceOf(MalformedJson);
  });

  it('stops once the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    const done = parseJsonYielding(Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => i))), controller.signal, tiny);
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
  });
});
