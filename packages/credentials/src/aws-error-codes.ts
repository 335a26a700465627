// The AWS error table lives in ./aws/error-table.ts; these names stay importable from here.
export {
  awsErrorCode,
  awsRequestId,
  isExpiredCredentialsError,
  isRecoverableError,
} from './aws/error-table.js';
