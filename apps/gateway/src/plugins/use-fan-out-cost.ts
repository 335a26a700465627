import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config/config-schema.js';
import { GatewayErrorCode } from '../errors.js';
import type { GatewayContext } from '../schema/context.js';

/** What the estimate needs to know about the request besides the document. */
export interface CostInputs {
  /** Accounts `accounts` without `aliases` fans out to (the caller's allowed accounts). */
  allowedAccounts: number;
  /** The most regions any configured account has: what `instances` without `region` fans out to. */
  maxRegions: number;
  defaultPageSize: number;
  variables: Record<string, unknown>;
}

/** Nested lists without paging arguments are assumed to hold this many items. */
const NESTED_LIST_ESTIMATE = 5;
const PAGED_FIELDS = new Set(['instances', 'buckets', 'objects']);
const NESTED_LISTS = new Set(['securityGroups', 'volumes']);

function argument(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const node = field.arguments?.find((a) => a.name.value === name)?.value;
  return node ? literalValue(node, variables) : undefined;
}

function literalValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.STRING:
      return node.value;
    case Kind.LIST:
      return node.values.map((v) => literalValue(v, variables));
    case Kind.NULL:
      return null;
    default:
      return undefined;
  }
}

/**
 * Estimated cost of an operation: every selected field counts once per object it is
 * resolved on. `accounts` multiplies by the accounts it reaches, `instances` without a
 * region adds one listing per region, and paged fields multiply by `first`.
 *
 * @example
 * estimateCost(parse('{ accounts { instances { nodes { id } } } }'), undefined, inputs);
 */
export function estimateCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  inputs: CostInputs,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      if (!operationName || definition.name?.value === operationName) operation ??= definition;
    }
  }
  if (!operation) return 0;

  // `pageSize` is set inside a connection: its `nodes` / `edges` multiply by it.
  const walk = (
    set: SelectionSetNode,
    multiplier: number,
    seen: ReadonlySet<string>,
    pageSize?: number,
  ): number => {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += walk(selection.selectionSet, multiplier, seen, pageSize);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name))
          cost += walk(fragment.selectionSet, multiplier, new Set([...seen, name]), pageSize);
        continue;
      }
      const name = selection.name.value;
      cost += multiplier;
      if (!selection.selectionSet) continue;
      let inner = multiplier;
      let innerPageSize: number | undefined;
      if (name === 'accounts') {
        const aliases = argument(selection, 'aliases', inputs.variables);
        inner *= Array.isArray(aliases) ? aliases.length : inputs.allowedAccounts;
      } else if (PAGED_FIELDS.has(name)) {
        const first = argument(selection, 'first', inputs.variables);
        innerPageSize = typeof first === 'number' && first > 0 ? first : inputs.defaultPageSize;
        if (name === 'instances' && argument(selection, 'region', inputs.variables) == null) {
          cost += multiplier * inputs.maxRegions;
        }
      } else if ((name === 'nodes' || name === 'edges') && pageSize !== undefined) {
        inner *= pageSize;
      } else if (NESTED_LISTS.has(name)) {
        inner *= NESTED_LIST_ESTIMATE;
      }
      cost += walk(selection.selectionSet, inner, seen, innerPageSize);
    }
    return cost;
  };
  return walk(operation.selectionSet, 1, new Set());
}

/**
 * Refuses operations whose estimated cost (with account x region fan-out) is above
 * `limits.maxCost`, before any AWS call is made.
 */
export function useFanOutCost(options: {
  limits: LimitsConfig;
  maxRegions: number;
  allowedAccounts: (context: GatewayContext) => number;
}): Plugin<GatewayContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = estimateCost(args.document, args.operationName, {
        allowedAccounts: options.allowedAccounts(args.contextValue),
        maxRegions: options.maxRegions,
        defaultPageSize: options.limits.defaultPageSize,
        variables: (args.variableValues ?? {}) as Record<string, unknown>,
      });
      if (cost > options.limits.maxCost) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`Query cost ${cost} exceeds the limit of ${options.limits.maxCost}`, {
              extensions: {
                code: GatewayErrorCode.COST_LIMIT_EXCEEDED,
                cost,
                maxCost: options.limits.maxCost,
              },
            }),
          ],
        });
      }
    },
  };
}
