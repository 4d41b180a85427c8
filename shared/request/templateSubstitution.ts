/**
 * The fast path of body templates that only substitute: literal text and outputs of a plain
 * name (`{{ agent_id }}`, `{{ policy_result.rule }}`, `{{ event_json }}`, a `${VAR}`), with no
 * tags and no filters of the user's. The seed PagerDuty template, the chat templates of the
 * docs and most hand-written ones are this shape.
 *
 * Liquid renders such a template through a generator per node, which cost more than the rest
 * of a delivery's own work (docs/performance.md, "Where a delivery's time goes"). A plan of
 * literal pieces and property paths gives the same text without it. "The same" is Liquid's own
 * property reading with `ownPropertyOnly`, copied here for plain data:
 * - each step, the first included, reads an own property only; `null` and `undefined` stop the walk as they are;
 * - `size`, `first` and `last`, which Liquid reads specially, are left to Liquid (no plan);
 * - a value that Liquid would call or convert (a function, a `Drop`, a `toLiquid`) is left to
 *   Liquid for that render ({@link UNPLANNED}). Events are JSON data, so this never happens
 *   in practice; it keeps the plan exact anyway.
 * test/unit/templateSubstitution.test.ts renders random templates of this shape over random
 * events both ways and requires the same body.
 */
import { Drop, Output, type Template, TypeGuards } from 'liquidjs';

/** One of the private filters the JSON rewrite ends every output with (`./templateSource.ts`). */
type PieceFilter = (value: unknown) => string;

/** Literal text, or the value at a path written through one of the private filters. */
type Piece =
  | { readonly text: string }
  | { readonly path: readonly string[]; readonly filter: PieceFilter; readonly name: string };

/** Property names Liquid reads in its own way (`readSize`, `readFirst`, `readLast`). */
const SPECIAL_PROPERTIES = new Set(['size', 'first', 'last']);

/** A render the plan cannot reproduce exactly; Liquid renders that one. */
const UNPLANNED = Symbol('unplanned');

/** Liquid would call, convert or ask this value itself rather than read a property. */
const readsSpecially = (value: object): boolean =>
  typeof value === 'function' ||
  value instanceof Drop ||
  typeof (value as { toLiquid?: unknown }).toLiquid === 'function';

/** The value at `path` in `scope`, read as Liquid does for plain data, or {@link UNPLANNED}. */
const readPath = (scope: object, path: readonly string[]): unknown => {
  let value: unknown = scope;
  for (const key of path) {
    if (value === undefined || value === null) return value;
    if (typeof value === 'object' && readsSpecially(value)) return UNPLANNED;
    value = Object.hasOwn(Object(value), key) ? (value as Record<string, unknown>)[key] : undefined;
    // Liquid calls a function it reads; plain data has none.
    if (typeof value === 'function') return UNPLANNED;
  }
  if (typeof value === 'object' && value !== null && readsSpecially(value)) return UNPLANNED;
  return value;
};

/**
 * The plan of a parsed template, or `undefined` when it is not a pure substitution (a tag, a
 * filter of the user's, a literal or an index in an output, a special property name).
 *
 * @param filters the private filters by name; an output ending in any other filter has no plan.
 * @example
 * const plan = substitutionPlan(liquid.parse(rewritten), { __tappass_json_value: jsonValueFilter });
 */
const substitutionPlan = (
  templates: readonly Template[],
  filters: Readonly<Record<string, PieceFilter>>,
): Piece[] | undefined => {
  const pieces: Piece[] = [];
  for (const node of templates) {
    const token = node.token;
    if (TypeGuards.isHTMLToken(token)) {
      pieces.push({ text: token.getContent() });
      continue;
    }
    if (!(node instanceof Output)) return undefined;
    const { initial, filters: chain } = node.value;
    const only = chain.length === 1 ? chain[0] : undefined;
    const filter =
      only && only.args.length === 0 && Object.hasOwn(filters, only.name)
        ? filters[only.name]
        : undefined;
    const access = initial.postfix.length === 1 ? initial.postfix[0] : undefined;
    if (!only || !filter || !access || !TypeGuards.isPropertyAccessToken(access)) return undefined;
    if (access.variable !== undefined) return undefined;
    const path: string[] = [];
    for (const prop of access.props) {
      if (!TypeGuards.isWordToken(prop) || SPECIAL_PROPERTIES.has(prop.content)) return undefined;
      path.push(prop.content);
    }
    pieces.push({ path, filter, name: only.name });
  }
  return pieces;
};

/**
 * Writes a plan's pieces for one scope into `emitter` (the body's bounded emitter). Returns
 * {@link UNPLANNED}, having written a part, when a value needs Liquid: render that scope again
 * with Liquid, into a fresh emitter.
 */
const writePlan = (
  pieces: readonly Piece[],
  emitter: { write(text: string): void },
  scope: object,
): typeof UNPLANNED | undefined => {
  for (const piece of pieces) {
    if ('text' in piece) {
      emitter.write(piece.text);
      continue;
    }
    const value = readPath(scope, piece.path);
    if (value === UNPLANNED) return UNPLANNED;
    emitter.write(piece.filter(value));
  }
  return undefined;
};

export type { Piece, PieceFilter };
export { substitutionPlan, UNPLANNED, writePlan };
