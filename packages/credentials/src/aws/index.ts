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
} from './error-table.js';
export type { Page, PagePosition } from './page.js';
export { byKey, cutPage, decodePageCursor, encodePageCursor } from './page.js';
