import type { Plugin } from 'graphql-yoga';
import type { AccountLease, AccountRegistry } from './account-registry.js';
import type { AccountSnapshot } from './account-snapshot.js';

/** The registry's snapshot per request, held from the request's first use until its response. */
export interface RequestSnapshots {
  /** The snapshot this request reads (acquired on first call, the same one after). */
  snapshotOf(request: Request): AccountSnapshot;
  /** Releases the request's snapshot when its response is ready. */
  plugin: Plugin;
}

/**
 * A request keeps the accounts it started with: a re-discovery meanwhile changes what later
 * requests see, and a removed account's session is closed only after the last request holding
 * it has answered.
 *
 * @example
 * const snapshots = useAccountSnapshot(registry);
 * createYoga({ context: ({ request }) => ({ snapshot: snapshots.snapshotOf(request) }), plugins: [snapshots.plugin] });
 */
export function useAccountSnapshot(registry: AccountRegistry): RequestSnapshots {
  const leases = new WeakMap<Request, AccountLease>();
  return {
    snapshotOf(request) {
      let lease = leases.get(request);
      if (!lease) {
        lease = registry.acquire();
        leases.set(request, lease);
      }
      return lease.snapshot;
    },
    plugin: {
      onResponse({ request }) {
        leases.get(request)?.release();
        leases.delete(request);
      },
    },
  };
}
