/**
 * Issue 9 §11, against fake engines: a host with 200,000 images (~58 MB of JSON, under the body cap) does
 * not stall the gateway. Its list is parsed in slices and normalised in chunks with yields between them,
 * so a small request to another host, sent once the big body has been read, is answered before the big
 * host's engine call has even settled (ordering, not timing); and the big answer is still right.
 */
import diagnostics from 'node:diagnostics_channel';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeList } from '../../bench/engine-calls.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';

const COUNT = 200_000;

let big: FakeEngine;
let small: FakeEngine;
let t: TestApp;
const list = fakeList('big', COUNT);

beforeAll(async () => {
  big = await startFakeEngine('big');
  small = await startFakeEngine('small');
  big.set('/images/json', { body: Buffer.from(JSON.stringify(list)) });
  t = createTestApp(
    [
      { name: 'big', endpoint: big.endpoint },
      { name: 'small', endpoint: small.endpoint },
    ],
    // A deadline no loaded machine reaches: this test is about order, not speed.
    { hostTimeoutMs: 120_000, maxImages: COUNT },
  );
}, 60_000);

afterAll(async () => {
  t?.close();
  await Promise.all([big?.stop(), small?.stop()]);
});

describe('a host with 200,000 images', () => {
  it('does not hold other requests while its list is parsed and normalised', async () => {
    const order: string[] = [];
    // Observe when the big host's engine call (read + parse) settles, without changing what it does.
    const client = t.registry.client('big');
    const getJson = client.getJson.bind(client);
    client.getJson = async (...args: Parameters<typeof getJson>) => {
      const body = await getJson(...args);
      if (args[0] === '/images/json') order.push('big engine call parsed');
      return body;
    };
    // The small request starts the moment the gateway has read the whole big body (its 'end', right after
    // the gateway's own listener): from there on only parsing and normalising are left of the big call.
    const bodyRead = new Promise<void>((resolve) => {
      const channel = diagnostics.channel('http.client.response.finish');
      const onResponse = (message: unknown) => {
        const { request, response } = message as { request: http.ClientRequest; response: http.IncomingMessage };
        if (!request.path.includes('/images/json')) return;
        channel.unsubscribe(onResponse);
        response.once('end', resolve);
      };
      channel.subscribe(onResponse);
    });
    const bigAnswer = t.query<{ images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[] }> } }>(
      `{ images(hosts: ["big"], first: 3, orderBy: [{ field: CREATED, direction: DESC }]) { totalCount nodes { id repoTags } } }`,
    ).then((a) => (order.push('big answered'), a));
    const smallAnswer = await bodyRead.then(() => t.query<{ images: { totalCount: number } }>(`{ images(hosts: ["small"]) { totalCount } }`));
    order.push('small answered');
    const answer = await bigAnswer;

    expect(smallAnswer.errors).toBeUndefined();
    expect(smallAnswer.data!.images.totalCount).toBe(small.images.length);
    expect(order).toEqual(['small answered', 'big engine call parsed', 'big answered']);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.images.totalCount).toBe(COUNT);
    const newest = [...list].sort((a, b) => b.Created - a.Created).slice(0, 3);
    expect(answer.data!.images.nodes).toEqual(newest.map((i) => ({ id: i.Id, repoTags: i.RepoTags })));
  }, 180_000);

  it('answers HOST_BAD_RESPONSE for a big body that is not JSON, and the other host still answers', async () => {
    const text = JSON.stringify(list.slice(0, 50_000));
    // Valid slices up to a cut in the middle: only the whole body tells it is garbage.
    big.set('/images/json', { body: Buffer.from(`${text.slice(0, -1)},{"Id":"sha256:x",]`) });
    const answer = await t.query<{ images: { totalCount: number } }>(`{ images { totalCount } }`);
    expect(answer.data!.images.totalCount).toBe(small.images.length);
    expect(answer.errors?.map((e) => [e.extensions?.host, e.extensions?.code])).toEqual([['big', 'HOST_BAD_RESPONSE']]);
  }, 120_000);
});
