/**
 * An image's full-precision creation time. /images/json gives `Created` in Unix seconds; the engine's
 * before/since (and, from API 1.44, until) filters compare the time in the image config, to the
 * nanosecond, which GET /images/{id}/json reports as RFC 3339 with up to nine fraction digits.
 */
const RFC3339 = /^(\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Nanoseconds since the epoch; throws on anything that is not RFC 3339. */
export function parseCreatedNanos(value: unknown): bigint {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new TypeError('Created is not an RFC 3339 time');
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** The `Created` of an image inspect answer, in nanoseconds. */
export function normalizeInspectCreated(body: unknown): bigint {
  if (typeof body !== 'object' || body === null) throw new TypeError('image inspect is not an object');
  return parseCreatedNanos((body as { Created?: unknown }).Created);
}
