// TEMPORARY: the bucket interfaces agreed in interfaces.md, until the `limits` branch lands
// them in @rolegraph/credentials/aws; then this file goes and the imports point there.

export interface TokenBucketSpec {
  burst: number;
  refillPerSecond: number;
}

export interface BucketStore {
  take(key: string, spec: TokenBucketSpec, nowMs: number): Promise<number> | number;
  drain(key: string, spec: TokenBucketSpec, nowMs: number): Promise<void> | void;
}
