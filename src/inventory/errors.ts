import { GraphQLError } from 'graphql';

/** Errors about arguments: stable code (BAD_USER_INPUT), names the argument. Made by inventory/ and schema/ alike. */
export function badInput(message: string, argument?: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}), ...extra } });
}
