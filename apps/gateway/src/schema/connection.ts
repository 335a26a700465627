import type { Page } from '@rolegraph/credentials/aws';
import type { LimitsConfig } from '../config/config-schema.js';
import { GatewayError, GatewayErrorCode } from '../errors.js';

export interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}

/** A Relay-style connection, offering both `edges` and the shorter `nodes`. */
export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  pageInfo: PageInfo;
}

/**
 * Where a listing continues: region index `r` (for listings over several regions) and the
 * adapter's own cursor `c` there (null: the region's first page). The gateway adds only the
 * region; the adapter's cursor is opaque to it and checked by the adapter.
 */
export interface Position {
  r: number;
  c: string | null;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.r, position.c])).toString('base64url');
}

/** The position a cursor stands for: `BAD_USER_INPUT` for anything the gateway did not make. */
export function decodeCursor(cursor: string | null | undefined): Position {
  if (cursor === null || cursor === undefined) return { r: 0, c: null };
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isInteger(value[0]) &&
      value[0] >= 0 &&
      (value[1] === null || (typeof value[1] === 'string' && value[1].length > 0))
    ) {
      return { r: value[0], c: value[1] };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new GatewayError('after is not a cursor this gateway made', {
    code: GatewayErrorCode.BAD_USER_INPUT,
  });
}

/** The page size for `first`: the default when omitted, an error outside 1..maxPageSize. */
export function pageSize(first: number | null | undefined, limits: LimitsConfig): number {
  if (first === null || first === undefined) return limits.defaultPageSize;
  if (!Number.isInteger(first) || first < 1 || first > limits.maxPageSize) {
    throw new GatewayError(`first must be between 1 and ${limits.maxPageSize}, got ${first}`, {
      code: GatewayErrorCode.BAD_USER_INPUT,
    });
  }
  return first;
}

/**
 * Walks adapter pages (one per region, in order, each of at most `first` items) into one
 * connection of at most `first` items. Every edge's cursor is the adapter's cursor of its item
 * plus the region; a region with more pages ends the connection there, so order is kept.
 */
export function connectionFromPages<T, N>(options: {
  pages: Array<{ r: number; page: Page<T> }>;
  first: number;
  toNode: (item: T) => N;
  lastRegion: number;
}): Connection<N> {
  const edges: Connection<N>['edges'] = [];
  let endCursor: string | null = null;
  let hasNextPage = false;
  outer: for (const { r, page } of options.pages) {
    for (const [i, item] of page.items.entries()) {
      if (edges.length === options.first) {
        hasNextPage = true;
        break outer;
      }
      const cursor = encodeCursor({ r, c: page.cursors[i] ?? null });
      edges.push({ cursor, node: options.toNode(item) });
      endCursor = cursor;
    }
    // The whole page was used: continue at the adapter's next page, or the next region.
    if (page.hasNextPage && page.endCursor !== null) {
      endCursor = encodeCursor({ r, c: page.endCursor });
      hasNextPage = true;
      break;
    }
    if (r < options.lastRegion) endCursor = encodeCursor({ r: r + 1, c: null });
    if (edges.length === options.first) {
      hasNextPage = r < options.lastRegion && options.pages.some((p) => p.r > r && p.page.items.length > 0);
      if (!hasNextPage) endCursor = edges.at(-1)?.cursor ?? endCursor;
      break;
    }
  }
  return { edges, nodes: edges.map((e) => e.node), pageInfo: { endCursor, hasNextPage } };
}
