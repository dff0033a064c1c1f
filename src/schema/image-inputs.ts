import { MAX_FILTER_ENTRIES, MAX_FILTER_ENTRY_LENGTH } from '../inventory/filter.js';
import { IMAGE_ORDER_FIELDS } from '../inventory/order.js';
import { builder } from './builder.js';
import { UpdateStatusEnum } from './image-update.js';

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Sort direction.',
  values: { ASC: { description: 'Smallest first.' }, DESC: { description: 'Largest first.' } } as const,
});

export const ImageOrderFieldEnum = builder.enumType('ImageOrderField', {
  description: 'What to sort image summaries by. Ties are always broken by host name, then image ID, so the order is total and pages never overlap.',
  values: {
    CREATED: { description: 'Creation time.' },
    SIZE: { description: 'Size in bytes.' },
    REFERENCE: { description: 'First repo:tag in alphabetical order; untagged images sort last (first with DESC).' },
    HOST: { description: 'Host name.' },
    ID: { description: 'Image ID.' },
  } satisfies Record<(typeof IMAGE_ORDER_FIELDS)[number], { description: string }>,
});

export const ImageOrderInput = builder.inputType('ImageOrder', {
  description: 'One sort term. A list of terms sorts by the first, then the next, and so on.',
  fields: (t) => ({
    field: t.field({ type: ImageOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'ASC' }),
  }),
});

export const ImageFilterInput = builder.inputType('ImageFilter', {
  description:
    `Selects image summaries. Every given condition must hold. Where Docker has a filter of the same name (dangling, label, reference, before, since) the meaning is Docker's, on every host. Creation times are compared at full (nanosecond) precision, as the engine does. Each list takes at most ${MAX_FILTER_ENTRIES} entries of at most ${MAX_FILTER_ENTRY_LENGTH} characters.`,
  fields: (t) => ({
    dangling: t.boolean({
      description: "true: only untagged images. false: leave out images that have neither a tag nor a digest (Docker's meaning).",
    }),
    label: t.stringList({ description: 'Each entry "key" (the label exists) or "key=value" (it has that value); all must match.' }),
    labelNot: t.stringList({ description: 'Entries as in label; an image matching any of them is left out.' }),
    reference: t.stringList({
      description:
        'Docker reference patterns (Go path.Match globs such as "fleet/*" or "nginx:1.2?") matched against each tag and digest, in familiar ("nginx:latest") and canonical ("docker.io/library/nginx:latest") form, with and without the tag. Any entry may match.',
    }),
    before: t.string({ description: 'Only images created before this image (a reference or ID, resolved on each host as Docker does).' }),
    since: t.string({ description: 'Only images created after this image (a reference or ID, resolved on each host as Docker does).' }),
    createdBefore: t.field({ type: 'DateTime', description: "Only images created before this moment (the same on every host): Docker's until with a fixed time, on every API version." }),
    createdAfter: t.field({ type: 'DateTime', description: 'Only images created after this moment (the same on every host).' }),
    inUse: t.boolean({ description: 'true: images used by at least one container, running or stopped. false: images no container uses.' }),
    ids: t.idList({ description: 'Image IDs or unique ID prefixes (with or without "sha256:").' }),
    updateStatus: t.field({
      type: [UpdateStatusEnum],
      description: 'Images with at least one tag in one of these update states (see ImageSummary.updates), e.g. updateStatus: OUTDATED. Asks registries as updates does.',
    }),
    platform: t.string({
      description:
        'Only images with an image manifest for this platform whose content is on the host ("os/architecture[/variant]", e.g. "linux/arm64"; without a variant any variant matches). Reads manifests (API 1.47+, containerd image store): images of engines that cannot list them do not match.',
    }),
  }),
});
