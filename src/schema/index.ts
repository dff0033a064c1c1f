import { GraphQLLiveDirective } from '@n1ru4l/graphql-live-query';
import { GraphQLSchema, lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { builder } from './builder.js';
import './refs.js';
import './image-update.js';
import './image-inputs.js';
import './image-summary.js';
import './manifest.js';
import './host.js';
import './container.js';
import './image-group.js';
import './stats.js';
import './host-live.js';
import './subscription.js';

/** The schema, sorted so the printed SDL is stable. Only app.ts and the schema printer import this. */
export const schema = lexicographicSortSchema(withLiveDirective(builder.toSchema()));

/** `@live` (live queries, answered in mirror mode; see src/live/live-query.ts). */
function withLiveDirective(built: GraphQLSchema): GraphQLSchema {
  return new GraphQLSchema({ ...built.toConfig(), directives: [...specifiedDirectives, GraphQLLiveDirective] });
}
