import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { failureOf, originalOf, redact, typedError } from '../errors.js';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { GatewayContext } from '../schema/context.js';

/**
 * Counts operations and errors by code and logs each error with its request id, account and
 * region (before masking, so the log has the real cause; messages are redacted).
 */
export function useErrorReporting(options: { log: LogFn; metrics: GatewayMetrics }): Plugin<GatewayContext> {
  const { log, metrics } = options;
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      const operationType = operation ? String(operation.operation) : 'unknown';
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) && !('data' in result)) return;
          const errors = 'errors' in result ? (result.errors ?? []) : [];
          const hasData = 'data' in result && result.data !== null && result.data !== undefined;
          metrics.graphqlOperations.inc({
            operation_type: operationType,
            outcome: errors.length === 0 ? 'ok' : hasData ? 'partial' : 'error',
          });
          for (const error of errors) {
            // The code the caller sees: the same `failureOf` that masking uses.
            const code = failureOf(error).code;
            metrics.graphqlErrors.inc({ code });
            const cause = originalOf(error);
            const original = cause instanceof Error ? cause : error;
            const typed = typedError(original);
            log({
              level: code === 'INTERNAL_SERVER_ERROR' ? 'error' : 'warn',
              msg: 'graphql error',
              requestId: args.contextValue.requestId,
              caller: args.contextValue.caller?.name,
              code,
              path: error.path?.join('.'),
              accountId: typed?.accountId,
              region: typed?.region,
              awsCode: typed?.awsCode,
              awsRequestId: typed?.requestId,
              error: redact(original.message),
              ...(code === 'INTERNAL_SERVER_ERROR' && original.stack
                ? { stack: redact(original.stack) }
                : {}),
            });
          }
        },
      };
    },
  };
}
