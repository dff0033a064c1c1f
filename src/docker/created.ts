import { z } from 'zod';

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

const inspectSchema = z.object({
  Created: z.string().refine((v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)), 'not an RFC 3339 time'),
});

/**
 * The `Created` of an image inspect answer, in nanoseconds. A body without a usable `Created` is the
 * engine's fault: it throws a ZodError, which the source maps to HOST_BAD_RESPONSE (a TypeError would be
 * taken for a bug of ours).
 */
export function normalizeInspectCreated(body: unknown): bigint {
  return parseCreatedNanos(inspectSchema.parse(body).Created);
}
