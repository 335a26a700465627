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
  /** A `first` above this (or below 1) is refused by its field, so it prices nothing. @default 1000 */
  maxPageSize?: number;
  /** Longer list arguments are refused by their field (see `limits`), so they price nothing. */
  maxIds?: number;
  maxAccountNames?: number;
  maxFilterValues?: number;
  variables: Record<string, unknown>;
  /** The walk stops as soon as the cost passes this. @default Infinity */
  maxCost?: number;
  /** The walk stops as soon as the AWS calls pass this. @default Infinity */
  maxAwsCalls?: number;
}

/** The estimate of one operation; `exceeded` says which cap the walk stopped at. */
export interface QueryEstimate {
  /** Result-size cost: every selected field once per object it is resolved on. */
  cost: number;
  /** AWS calls the operation is expected to make (ceiled). */
  awsCalls: number;
  exceeded?: 'cost' | 'awsCalls';
}

/** Nested lists without paging arguments are assumed to hold this many items. */
const NESTED_LIST_ESTIMATE = 5;
/** EC2 takes at most 200 filter values per call: an `ids` filter goes out in chunks of 200. */
const ID_FILTER_CHUNK = 200;
/** Batched Describe calls by id (`instance`, security groups, volumes) carry up to 1000 ids. */
const IDS_PER_BATCH = 1000;
/** EC2 DescribeInstances, S3 ListBuckets and ListObjectsV2 return at most 1000 items a call. */
const AWS_PAGE = 1000;
/** Bucket fields that cost one S3 call per bucket (S3 has no batch API). */
const PER_BUCKET_CALLS = new Set(['region', 'tags', 'encryption', 'publicAccessBlock', 'policyStatus']);

type TypeName =
  | 'Query'
  | 'Account'
  | 'AccountStatus'
  | 'InstanceConnection'
  | 'InstanceEdge'
  | 'Instance'
  | 'BucketConnection'
  | 'BucketEdge'
  | 'Bucket'
  | 'ObjectConnection'
  | 'ObjectEdge'
  | 'Other';

/** Where a selection set is: its type, and inside a connection the page size its items multiply by. */
interface Place {
  type: TypeName;
  pageSize: number;
}

interface Totals {
  cost: number;
  calls: number;
}

class Exceeded extends Error {
  constructor(readonly which: 'cost' | 'awsCalls') {
    super(which);
  }
}

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
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.LIST:
      return node.values.map((v) => literalValue(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalValue(f.value, variables)]));
    case Kind.NULL:
      return null;
    default:
      return undefined;
  }
}

const lengthOf = (value: unknown): number => (Array.isArray(value) ? value.length : 0);

/**
 * Estimates an operation's result-size cost and its AWS calls in one walk, linear in the
 * document: each fragment is priced once per place it is spread in (memoized), and the walk
 * stops as soon as either total passes its cap. Fields whose arguments their resolver refuses
 * (a `first` out of range, a list argument over its cap) price nothing: they make no call.
 *
 * AWS calls: `instances` one listing per region (`region` omitted: the most regions of any
 * account), per 1000 items of `first`, or per chunk of 200 `filter.ids`; `accounts` multiplies
 * by its distinct `aliases` (or the caller's accounts); `buckets`, `objects` one call per 1000;
 * `region`, `tags`, `encryption`, `publicAccessBlock`, `policyStatus` of a bucket one call per
 * bucket; batched lookups by id (`instance`, `securityGroups`, `volumes`) a share of a 1000-id call.
 *
 * @example
 * estimateQuery(parse('{ accounts { instances { nodes { id } } } }'), undefined, inputs);
 * // { cost: 159, awsCalls: 6 } for 3 accounts x 2 regions
 */
export function estimateQuery(
  document: DocumentNode,
  operationName: string | null | undefined,
  inputs: CostInputs,
): QueryEstimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      if (!operationName || definition.name?.value === operationName) operation ??= definition;
    }
  }
  if (!operation) return { cost: 0, awsCalls: 0 };
  const { variables } = inputs;
  const maxCost = inputs.maxCost ?? Number.POSITIVE_INFINITY;
  const maxCalls = inputs.maxAwsCalls ?? Number.POSITIVE_INFINITY;
  const maxPageSize = inputs.maxPageSize ?? 1000;
  const maxIds = inputs.maxIds ?? Number.POSITIVE_INFINITY;
  const maxAccountNames = inputs.maxAccountNames ?? Number.POSITIVE_INFINITY;
  const maxFilterValues = inputs.maxFilterValues ?? Number.POSITIVE_INFINITY;
  // Totals per one object of the place, by fragment and place: linear, not exponential.
  const memo = new Map<string, Totals>();
  const visiting = new Set<string>();

  /** `first` as the resolver will use it, or undefined when the resolver refuses it. */
  const firstOf = (field: FieldNode): number | undefined => {
    const first = argument(field, 'first', variables);
    if (first === undefined || first === null) return inputs.defaultPageSize;
    return Number.isInteger(first) && (first as number) >= 1 && (first as number) <= maxPageSize
      ? (first as number)
      : undefined;
  };

  /** A filter the resolver accepts: its id count, or undefined when a list is over its cap. */
  const idsOf = (field: FieldNode): number | undefined | null => {
    const filter = argument(field, 'filter', variables);
    if (filter === null || typeof filter !== 'object') return null;
    const f = filter as Record<string, unknown>;
    if (lengthOf(f.ids) > maxIds) return undefined;
    for (const key of ['states', 'types', 'vpcIds', 'tags'] as const) {
      if (lengthOf(f[key]) > maxFilterValues) return undefined;
    }
    if (Array.isArray(f.tags)) {
      for (const tag of f.tags) {
        if (
          tag &&
          typeof tag === 'object' &&
          lengthOf((tag as { values?: unknown }).values) > maxFilterValues
        )
          return undefined;
      }
    }
    return Array.isArray(f.ids) ? new Set(f.ids).size : null;
  };

  /**
   * One field on one object of `place`: its own calls, and the place and item count of its
   * selection set. `null`: the field is refused by its resolver (it costs itself only).
   */
  const price = (field: FieldNode, place: Place): { calls: number; items: number; inner: Place } | null => {
    const name = field.name.value;
    const regions = () => (argument(field, 'region', variables) == null ? inputs.maxRegions : 1);
    const t = place.type;
    const onAccount = t === 'Account' || t === 'Query';
    if (t === 'Query' && name === 'accounts') {
      const aliases = argument(field, 'aliases', variables);
      if (Array.isArray(aliases)) {
        if (aliases.length > maxAccountNames) return null;
        // Repeated names are answered once.
        return { calls: 0, items: new Set(aliases).size, inner: { type: 'Account', pageSize: 0 } };
      }
      return { calls: 0, items: inputs.allowedAccounts, inner: { type: 'Account', pageSize: 0 } };
    }
    if (t === 'Query' && name === 'account')
      return { calls: 0, items: 1, inner: { type: 'Account', pageSize: 0 } };
    if (onAccount && name === 'instances') {
      const first = firstOf(field);
      const ids = idsOf(field);
      if (first === undefined || ids === undefined) return null;
      const perRegion =
        ids === null ? Math.ceil(first / AWS_PAGE) : Math.max(1, Math.ceil(ids / ID_FILTER_CHUNK));
      const pageSize = ids === null ? first : Math.min(first, ids);
      return { calls: regions() * perRegion, items: 1, inner: { type: 'InstanceConnection', pageSize } };
    }
    if (onAccount && name === 'instance')
      return { calls: regions() / IDS_PER_BATCH, items: 1, inner: { type: 'Instance', pageSize: 0 } };
    if (onAccount && name === 'buckets') {
      const first = firstOf(field);
      if (first === undefined) return null;
      return {
        calls: Math.ceil(first / AWS_PAGE),
        items: 1,
        inner: { type: 'BucketConnection', pageSize: first },
      };
    }
    if (onAccount && name === 'bucket') return { calls: 1, items: 1, inner: { type: 'Bucket', pageSize: 0 } };
    if (t === 'Account' && name === 'status')
      return { calls: 0, items: 1, inner: { type: 'AccountStatus', pageSize: 0 } };
    if (t === 'AccountStatus' && name === 'callerIdentity')
      return { calls: 1, items: 1, inner: { type: 'Other', pageSize: 0 } };
    if (t === 'InstanceConnection' || t === 'BucketConnection' || t === 'ObjectConnection') {
      const node = t === 'InstanceConnection' ? 'Instance' : t === 'BucketConnection' ? 'Bucket' : 'Other';
      const edge =
        t === 'InstanceConnection' ? 'InstanceEdge' : t === 'BucketConnection' ? 'BucketEdge' : 'ObjectEdge';
      if (name === 'nodes') return { calls: 0, items: place.pageSize, inner: { type: node, pageSize: 0 } };
      if (name === 'edges') return { calls: 0, items: place.pageSize, inner: { type: edge, pageSize: 0 } };
    }
    if ((t === 'InstanceEdge' || t === 'BucketEdge' || t === 'ObjectEdge') && name === 'node') {
      const node = t === 'InstanceEdge' ? 'Instance' : t === 'BucketEdge' ? 'Bucket' : 'Other';
      return { calls: 0, items: 1, inner: { type: node, pageSize: 0 } };
    }
    if (t === 'Instance' && (name === 'securityGroups' || name === 'volumes')) {
      return {
        calls: NESTED_LIST_ESTIMATE / IDS_PER_BATCH,
        items: NESTED_LIST_ESTIMATE,
        inner: { type: 'Other', pageSize: 0 },
      };
    }
    if (t === 'Bucket' && PER_BUCKET_CALLS.has(name))
      return { calls: 1, items: 1, inner: { type: 'Other', pageSize: 0 } };
    if (t === 'Bucket' && name === 'objects') {
      const first = firstOf(field);
      if (first === undefined) return null;
      return {
        calls: Math.ceil(first / AWS_PAGE),
        items: 1,
        inner: { type: 'ObjectConnection', pageSize: first },
      };
    }
    return { calls: 0, items: 1, inner: { type: 'Other', pageSize: 0 } };
  };

  // Totals for one object of `place`; `scale` is how many such objects the operation reaches,
  // so the caps can be checked while walking.
  const walk = (set: SelectionSetNode, place: Place, scale: number): Totals => {
    const totals: Totals = { cost: 0, calls: 0 };
    const add = (cost: number, calls: number) => {
      totals.cost += cost;
      totals.calls += calls;
      if (totals.cost * scale > maxCost) throw new Exceeded('cost');
      if (totals.calls * scale > maxCalls) throw new Exceeded('awsCalls');
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = walk(selection.selectionSet, place, scale);
        add(inner.cost, inner.calls);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const key = `${name}|${place.type}|${place.pageSize}`;
        if (!fragment || visiting.has(key)) continue;
        let inner = memo.get(key);
        if (!inner) {
          visiting.add(key);
          inner = walk(fragment.selectionSet, place, scale);
          visiting.delete(key);
          memo.set(key, inner);
        }
        add(inner.cost, inner.calls);
        continue;
      }
      const priced = price(selection, place);
      // `instances` without a region also counts one listing per region in the cost (as before).
      const regionListings =
        priced && selection.name.value === 'instances' && argument(selection, 'region', variables) == null
          ? inputs.maxRegions
          : 0;
      add(1 + regionListings, priced?.calls ?? 0);
      if (!priced || !selection.selectionSet || priced.items === 0) continue;
      const inner = walk(selection.selectionSet, priced.inner, scale * priced.items);
      add(priced.items * inner.cost, priced.items * inner.calls);
    }
    return totals;
  };

  try {
    const totals = walk(operation.selectionSet, { type: 'Query', pageSize: 0 }, 1);
    return { cost: totals.cost, awsCalls: Math.max(0, Math.ceil(totals.calls - 1e-9)) };
  } catch (error) {
    if (!(error instanceof Exceeded)) throw error;
    return {
      cost: error.which === 'cost' ? maxCost + 1 : maxCost,
      awsCalls: error.which === 'awsCalls' ? maxCalls + 1 : 0,
      exceeded: error.which,
    };
  }
}

/**
 * The result-size cost of an operation (see `estimateQuery`).
 *
 * @example
 * estimateCost(parse('{ accounts { alias } }'), undefined, inputs); // 1 + accounts
 */
export function estimateCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  inputs: CostInputs,
): number {
  return estimateQuery(document, operationName, inputs).cost;
}

/**
 * Refuses operations, before any AWS call, whose estimated cost (with account x region fan-out)
 * is above `limits.maxCost` (`COST_LIMIT_EXCEEDED`) or whose estimated AWS calls are above
 * `limits.maxAwsCalls` (`AWS_CALL_BUDGET_EXCEEDED`).
 */
export function useFanOutCost(options: {
  limits: LimitsConfig;
  /** The most regions of any account the request can reach (its snapshot's). */
  maxRegions: (context: GatewayContext) => number;
  allowedAccounts: (context: GatewayContext) => number;
}): Plugin<GatewayContext> {
  const { limits } = options;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const estimate = estimateQuery(args.document, args.operationName, {
        allowedAccounts: options.allowedAccounts(args.contextValue),
        maxRegions: options.maxRegions(args.contextValue),
        defaultPageSize: limits.defaultPageSize,
        maxPageSize: limits.maxPageSize,
        maxIds: limits.maxIds,
        maxAccountNames: limits.maxAccountNames,
        maxFilterValues: limits.maxFilterValues,
        variables: (args.variableValues ?? {}) as Record<string, unknown>,
        maxCost: limits.maxCost,
        maxAwsCalls: limits.maxAwsCalls,
      });
      if (estimate.exceeded === 'cost' || estimate.cost > limits.maxCost) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`Query cost exceeds the limit of ${limits.maxCost}`, {
              extensions: { code: GatewayErrorCode.COST_LIMIT_EXCEEDED, maxCost: limits.maxCost },
            }),
          ],
        });
      } else if (estimate.exceeded === 'awsCalls' || estimate.awsCalls > limits.maxAwsCalls) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `Query would make more than ${limits.maxAwsCalls} AWS calls (limits.maxAwsCalls); ask for fewer accounts, ids or pages`,
              {
                extensions: {
                  code: GatewayErrorCode.AWS_CALL_BUDGET_EXCEEDED,
                  maxAwsCalls: limits.maxAwsCalls,
                },
              },
            ),
          ],
        });
      }
    },
  };
}
