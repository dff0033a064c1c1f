import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, SafeIntResolver } from 'graphql-scalars';
import type { Context } from '../context.js';

/** The one SchemaBuilder. It defines no types: each type lives in its own file and imports this. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  /** Every connection's parent carries its totalCount (paginate computes it), typed once here. */
  Connection: { totalCount: number };
  Scalars: {
    SafeInt: { Input: number; Output: number };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodesOnConnection: true,
    clientMutationId: 'omit',
  },
});

builder.addScalarType('SafeInt', SafeIntResolver);
builder.addScalarType('DateTime', DateTimeResolver);

builder.queryType({ description: 'Read-only inventory of the images on a fleet of Docker hosts.' });
