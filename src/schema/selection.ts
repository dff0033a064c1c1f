import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/**
 * Module: what an operation selects, read from its document (fragments followed; @skip/@include are
 * not evaluated, so a conditionally selected field counts as selected: the safe side for both users,
 * the count-only shortcut and the prefetch).
 */

/** Calls `visit` for every field directly in `set`, through fragment spreads and inline fragments. */
export function eachField(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, visit: (field: FieldNode) => void, seen = new Set<string>()): void {
  if (!set) return;
  for (const sel of set.selections) {
    if (sel.kind === 'Field') visit(sel);
    else if (sel.kind === 'InlineFragment') eachField(sel.selectionSet, fragments, visit, seen);
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      eachField(fragments[sel.name.value]?.selectionSet, fragments, visit, seen);
    }
  }
}

/** True when the field being resolved selects nothing but `allowed` (e.g. only totalCount of a connection). */
export function selectsOnly(info: GraphQLResolveInfo, allowed: readonly string[]): boolean {
  let only = true;
  for (const node of info.fieldNodes) eachField(node.selectionSet, info.fragments, (f) => (only &&= allowed.includes(f.name.value)));
  return only;
}
