export type {
  AnswerCache,
  AnswerCacheOptions,
  AnswerCacheStats,
  AnswerCall,
  AnswerCounts,
  AnswerFreshness,
  AnswerSend,
  AnswerTtlSeconds,
  RequestAnswerCache,
} from './answer-cache/answer-cache.js';
export {
  createAnswerCache,
  DECODED_ANSWERS_MAX_BYTES,
  DEFAULT_ANSWER_CACHE_MAX_BYTES,
  DEFAULT_ANSWER_TTL_SECONDS,
  isReadOperation,
} from './answer-cache/answer-cache.js';
export type { AnswerKeyParts } from './answer-cache/answer-key.js';
export { answerKey, canonicalJson } from './answer-cache/answer-key.js';
export type { AnswerStore, MemoryAnswerStoreOptions, StoredAnswer } from './answer-cache/answer-store.js';
export { createMemoryAnswerStore } from './answer-cache/answer-store.js';
export type { AwsCallErrorOptions, AwsCallSite } from './aws-call-error.js';
export { AwsCallError } from './aws-call-error.js';
export type { AwsCallContext, AwsCallErrorFactory, AwsRequest } from './call-aws.js';
export { callAws, invalidArgument, toAwsCallError } from './call-aws.js';
export type { AwsCallBudget } from './call-budget.js';
export { createAwsCallBudget } from './call-budget.js';
export type { AwsErrorKind, ClassifiedAwsError } from './error-table.js';
export {
  AdapterErrorCode,
  AWS_ERROR_TABLE,
  awsErrorCode,
  awsRequestId,
  classifyAwsError,
  isExpiredCredentialsError,
  isRecoverableError,
  isThrottlingError,
} from './error-table.js';
export type { FollowingSignal } from './follow-signal.js';
export { followSignal } from './follow-signal.js';
export type { Page, PagePosition } from './page.js';
export { byKey, cutPage, decodePageCursor, encodePageCursor } from './page.js';
export type {
  AwsRateLimits,
  AwsRateLimitsInput,
  RateLimitBucket,
  RateLimitedCall,
} from './rate-limits/aws-rate-limits.js';
export {
  AWS_RATE_LIMITS,
  classifyAwsCall,
  EC2_UNFILTERED_CLASS,
  isUnfilteredUnpaginated,
  resolveAwsRateLimits,
} from './rate-limits/aws-rate-limits.js';
export { addAttemptMeter } from './rate-limits/meter-attempts.js';
export type {
  AcquireOptions,
  AwsRateLimiter,
  AwsRateLimiterOptions,
  RateLimiterStats,
} from './rate-limits/rate-limiter.js';
export { createAwsRateLimiter } from './rate-limits/rate-limiter.js';
export type { BucketStore, MemoryBucketStore, TokenBucketSpec } from './rate-limits/token-bucket.js';
export { checkTokenBucketSpec, createMemoryBucketStore } from './rate-limits/token-bucket.js';
