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
 * Where a page starts: region index `r` (for listings over several regions), the adapter's
 * cursor `a` of the page the position is in (null: the first page), and `s` items into it.
 * Edge cursors point into the middle of adapter pages, so they carry the offset.
 */
export interface Position {
  r: number;
  a: string | null;
  s: number;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.r, position.a, position.s])).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): Position {
  if (cursor === null || cursor === undefined) return { r: 0, a: null, s: 0 };
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      Number.isInteger(value[0]) &&
      value[0] >= 0 &&
      (value[1] === null || typeof value[1] === 'string') &&
      Number.isInteger(value[2]) &&
      value[2] >= 0
    ) {
      return { r: value[0], a: value[1], s: value[2] };
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

/** One adapter page as the listing functions return it. */
export interface AdapterPage<T> {
  items: T[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/**
 * Walks adapter pages (one per region, in order) into one connection of at most `first`
 * items. A region with more pages ends the connection there, so order is kept.
 */
export function connectionFromPages<T, N>(options: {
  pages: Array<{ r: number; after: string | null; skip: number; page: AdapterPage<T> }>;
  first: number;
  toNode: (item: T) => N;
  lastRegion: number;
}): Connection<N> {
  const edges: Connection<N>['edges'] = [];
  let endCursor: string | null = null;
  let hasNextPage = false;
  outer: for (const { r, after, skip, page } of options.pages) {
    const items = page.items.slice(skip);
    for (let i = 0; i < items.length; i++) {
      if (edges.length === options.first) {
        hasNextPage = true;
        break outer;
      }
      const item = items[i] as T;
      const position = { r, a: after, s: skip + i + 1 };
      const cursor = encodeCursor(position);
      edges.push({ cursor, node: options.toNode(item) });
      endCursor = cursor;
    }
    // The whole page was used: continue at the adapter's next page, or the next region.
    if (page.hasNextPage && page.endCursor !== null) {
      endCursor = encodeCursor({ r, a: page.endCursor, s: 0 });
      hasNextPage = true;
      break;
    }
    if (r < options.lastRegion) endCursor = encodeCursor({ r: r + 1, a: null, s: 0 });
    if (edges.length === options.first) {
      hasNextPage = r < options.lastRegion && options.pages.some((p) => p.r > r && p.page.items.length > 0);
      if (!hasNextPage) endCursor = edges.at(-1)?.cursor ?? endCursor;
      break;
    }
  }
  return { edges, nodes: edges.map((e) => e.node), pageInfo: { endCursor, hasNextPage } };
}
