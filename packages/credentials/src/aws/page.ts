/**
 * One page of a cursor-paginated listing of an adapter. `cursors[i]` resumes right after
 * `items[i]`; pass `endCursor` (or any item's cursor) back as `after`. The adapter that made
 * a cursor is the only one that reads it.
 */
export interface Page<T> {
  items: T[];
  /** One per item: the cursor that continues after it. */
  cursors: string[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** Where a listing resumes: the AWS token of a page and how many of its items are already seen. */
export interface PagePosition {
  token: string | undefined;
  skip: number;
}

// AWS pages cannot always be cut where the caller wants (EC2 returns at least 5), so a
// cursor inside an AWS page carries the offset too. Anything else is the AWS token itself.
const INSIDE_PAGE = /^rolegraph:(\d{1,9}):(.*)$/s;

/**
 * The position an adapter cursor stands for; a string it did not make is taken as an AWS
 * pagination token, which AWS accepts or refuses.
 *
 * @example
 * decodePageCursor('rolegraph:3:tok'); // { token: 'tok', skip: 3 }
 * decodePageCursor('tok'); // { token: 'tok', skip: 0 }
 */
export function decodePageCursor(after: string | null | undefined): PagePosition {
  if (!after) return { token: undefined, skip: 0 };
  const inside = INSIDE_PAGE.exec(after);
  if (inside) return { token: inside[2] || undefined, skip: Number(inside[1]) };
  return { token: after, skip: 0 };
}

/** The cursor of a position inside an AWS page (see `decodePageCursor`). */
export function encodePageCursor(position: PagePosition): string {
  return `rolegraph:${position.skip}:${position.token ?? ''}`;
}

/**
 * One adapter page out of one AWS page: the `first` items after `position.skip`, each with
 * its cursor, and where the next page starts (inside this AWS page, or AWS's next token).
 *
 * @example
 * cutPage({ items: raw, position, first: 10, nextToken: output.NextToken });
 */
export function cutPage<T>(options: {
  /** Every item of the AWS page fetched with `position.token`. */
  items: readonly T[];
  position: PagePosition;
  first: number;
  nextToken: string | undefined;
}): Page<T> {
  const { items, position, first, nextToken } = options;
  const end = Math.min(items.length, position.skip + first);
  const taken = items.slice(position.skip, end);
  const cursorAfter = (index: number) =>
    index === items.length && nextToken
      ? nextToken
      : encodePageCursor({ token: position.token, skip: index });
  const cursors = taken.map((_, i) => cursorAfter(position.skip + i + 1));
  if (end < items.length) {
    return { items: taken, cursors, endCursor: cursorAfter(end), hasNextPage: true };
  }
  return { items: taken, cursors, endCursor: nextToken ?? null, hasNextPage: Boolean(nextToken) };
}

/**
 * Orders tags (or anything keyed) by key, so equal tag sets compare equal.
 *
 * @example
 * tags.sort(byKey);
 */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
