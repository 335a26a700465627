import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { sessionOfCall } from '@rolegraph/credentials';
import { errorCodeOf } from './track-account-calls.js';

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}
type Handler = (args: unknown) => Promise<{ output?: { $metadata?: Metadata } }>;
interface Metadata {
  requestId?: string;
  attempts?: number;
  httpStatusCode?: number;
}
interface Stack {
  add(
    middleware: (next: Handler, context: MiddlewareContext) => Handler,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}

/**
 * SDK middleware that wraps every call of `client` in an OpenTelemetry CLIENT span named
 * `EC2.DescribeInstances` (retries inside it: `aws.attempts`), with the account, region,
 * service, operation, AWS request id and, on failure, the error code (the account is the call's
 * session's, `sessionOfCall`). Attach once per client,
 * e.g. from the session cache's `onClient`.
 */
export function traceAwsCalls(client: object, options: { tracer: Tracer; region: string }): void {
  const stack = (client as { middlewareStack?: Stack }).middlewareStack;
  stack?.add(
    (next, context) => async (args) => {
      const service = (context.clientName ?? 'Unknown').replace(/Client$/, '');
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      return options.tracer.startActiveSpan(
        `${service}.${operation}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'rpc.system': 'aws-api',
            'rpc.service': service,
            'rpc.method': operation,
            'cloud.provider': 'aws',
            'cloud.account.id': sessionOfCall(context)?.accountId ?? 'unknown',
            'cloud.region': options.region,
          },
        },
        async (span) => {
          try {
            const result = await next(args);
            const meta = result.output?.$metadata;
            if (meta?.requestId) span.setAttribute('aws.request_id', meta.requestId);
            if (meta?.attempts !== undefined) span.setAttribute('aws.attempts', meta.attempts);
            return result;
          } catch (error) {
            const meta = (error as { $metadata?: Metadata }).$metadata;
            const code = errorCodeOf(error);
            if (meta?.requestId) span.setAttribute('aws.request_id', meta.requestId);
            if (meta?.attempts !== undefined) span.setAttribute('aws.attempts', meta.attempts);
            span.setAttribute('aws.error_code', code);
            // The code only: an SDK message can quote the request, never worth the risk in a trace.
            span.setStatus({ code: SpanStatusCode.ERROR, message: code });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
    { step: 'initialize', name: 'rolegraphAwsTracing', override: true },
  );
}
