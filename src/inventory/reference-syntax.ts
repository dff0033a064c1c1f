/**
 * Module: what Docker accepts as an image reference where it resolves one image (`docker image inspect REF`,
 * GetImage): an ID or ID prefix (with or without "sha256:"), or a name as distribution/reference's
 * grammar spells it, with an optional tag and digest. Anything else Docker refuses ("invalid reference
 * format"), and so do we, instead of answering that no host has it.
 */

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAMED = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ID = /^(?:sha256:)?[a-f0-9]{1,64}$/;

/** Docker caps a repository name at 255 characters; a whole reference is bounded well below this. */
export const MAX_REFERENCE_LENGTH = 512;

/** Why `ref` is not a reference Docker would resolve, or undefined when it is one. */
export function referenceProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'is empty';
  if (ref.length > MAX_REFERENCE_LENGTH) return `is over ${MAX_REFERENCE_LENGTH} characters`;
  if (ID.test(ref)) return undefined;
  const m = NAMED.exec(ref);
  if (!m) return 'is not a valid image reference (an image ID or ID prefix, name[:tag] or name@digest)';
  const name = m[1] ? `${m[1]}/${m[2]}` : m[2]!;
  if (name.length > 255) return 'has a repository name over 255 characters';
  return undefined;
}
