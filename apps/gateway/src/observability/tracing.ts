import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../config/config-schema.js';

/** What the gateway traces with, and how to flush it at shutdown. */
export interface GatewayTracing {
  provider: import('@opentelemetry/api').TracerProvider;
  shutdown(): Promise<void>;
}

/**
 * An OpenTelemetry tracer provider that batches spans to the configured OTLP/HTTP endpoint
 * (`tracing.otlpEndpoint`, e.g. `http://collector:4318/v1/traces`). It is not registered
 * globally: only the gateway's own spans go through it.
 */
export function createOtlpTracing(config: TracingConfig): GatewayTracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.otlpEndpoint }) }),
    ],
  });
  return { provider, shutdown: () => provider.shutdown() };
}
