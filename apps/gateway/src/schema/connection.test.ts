import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionFromPages, decodeCursor, encodeCursor } from './connection.js';

describe('cursors', () => {
  it('round-trip any position', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.option(fc.string({ minLength: 1 }), { nil: null }), (r, c) => {
        expect(decodeCursor(encodeCursor({ r, c }))).toEqual({ r, c });
      }),
    );
  });

  it('reject anything the gateway did not make with BAD_USER_INPUT', () => {
    for (const bad of ['garbage', encodeCursor({ r: -1, c: null }).replace(/./, 'x'), 'W10']) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });
});

describe('connectionFromPages', () => {
  // An adapter page: each item's cursor is the offset after it, as the adapters' own cursors are.
  const page = (items: number[], start: number, endCursor: string | null = null) => ({
    items,
    cursors: items.map((_, k) => String(start + k + 1)),
    endCursor,
    hasNextPage: endCursor !== null,
  });

  it('paging by endCursor over regions visits every item exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(7), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        (sizes, first) => {
          // Region i holds sizes[i] items numbered apart; the adapter returns up to `want` per call.
          const regions = sizes.map((n, i) => Array.from({ length: n }, (_, j) => i * 100 + j));
          const fetch = (r: number, after: string | null, want: number) => {
            const start = after === null ? 0 : Number(after);
            const items = (regions[r] ?? []).slice(start, start + want);
            const next = start + items.length;
            return page(items, start, next < (regions[r]?.length ?? 0) ? String(next) : null);
          };
          const seen: number[] = [];
          let cursor: string | null = null;
          for (let guard = 0; guard < 100; guard++) {
            const position = decodeCursor(cursor);
            const pages = regions.slice(position.r).map((_, k) => {
              const r = position.r + k;
              return { r, page: fetch(r, k === 0 ? position.c : null, first) };
            });
            const c = connectionFromPages({
              pages,
              first,
              toNode: (n: number) => n,
              lastRegion: regions.length - 1,
            });
            expect(c.nodes.length).toBeLessThanOrEqual(first);
            seen.push(...c.nodes);
            if (!c.pageInfo.hasNextPage) break;
            cursor = c.pageInfo.endCursor;
          }
          expect(seen).toEqual(regions.flat());
        },
      ),
    );
  });
});
