import type { Session } from '@rolegraph/credentials';
import type { LimitFunction } from 'p-limit';

/** What every loader of one `createS3Loaders` call shares. */
export interface S3Context {
  session: Session;
  signal?: AbortSignal | undefined;
  /** Caps how many per-bucket calls of this request are in flight at once. */
  limit: LimitFunction;
  /** Where account-level calls (ListBuckets) and region lookups are sent. */
  defaultRegion: string;
}
