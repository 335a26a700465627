#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { hostWarning, sandboxBanner } from './banner.js';
import type { FaultRule, LatencyOptions } from './knobs/knobs.js';
import type { ServiceName } from './server/aws-error.js';
import { startSandbox } from './start-sandbox.js';

const usage = `rolegraph-sandbox: a local multi-account AWS (STS, EC2, S3, Organizations)

Options:
  --port <n>                 port to listen on (default 4566; 0 picks a free one)
  --host <addr>              address to bind (default 127.0.0.1)
  --fixture <path|demo>      YAML/JSON fixture file, or the built-in demo (default demo)
  --latency <svc=ms[:jitter]>  injected latency, repeatable (e.g. ec2=50:20)
  --fault <svc[:op]=kind>    forced fault, repeatable; kind: throttle|internal|unavailable|reset
  --throttling               AWS-like token buckets (EC2 100 burst + 20/s, unfiltered Describe* 50 + 10/s;
                             STS 100 + 20/s; Organizations 20 + 10/s per caller account)
  --org-empty-pages          Organizations list calls first answer an empty page with a NextToken
  --allow-short-sessions     test-only: AssumeRole DurationSeconds down to 1
  --admin-token <token>      require 'authorization: Bearer <token>' on /_sandbox/* (and accept any Host)
  --help`;

const services = new Set(['sts', 'ec2', 's3', 'organizations']);

function fail(message: string): never {
  console.error(`rolegraph-sandbox: ${message}\n\n${usage}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      fixture: { type: 'string', default: 'demo' },
      latency: { type: 'string', multiple: true, default: [] },
      fault: { type: 'string', multiple: true, default: [] },
      throttling: { type: 'boolean', default: false },
      'org-empty-pages': { type: 'boolean', default: false },
      'allow-short-sessions': { type: 'boolean', default: false },
      'admin-token': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const latency: LatencyOptions = {};
  for (const spec of values.latency) {
    const m = /^(sts|ec2|s3|organizations)=(\d+)(?::(\d+))?$/.exec(spec);
    if (!m) fail(`bad --latency ${spec}`);
    latency[m[1] as ServiceName] = { fixedMs: Number(m[2]), jitterMs: Number(m[3] ?? 0) };
  }
  const faults: FaultRule[] = values.fault.map((spec) => {
    const m = /^(\w+)(?::(\w+))?=(throttle|internal|unavailable|reset)$/.exec(spec);
    if (!m || !services.has(m[1] ?? '')) fail(`bad --fault ${spec}`);
    return {
      service: m[1] as ServiceName,
      ...(m[2] ? { operation: m[2] } : {}),
      error: m[3] as FaultRule['error'],
    };
  });
  const warning = hostWarning(values.host, values['admin-token'] !== undefined);
  if (warning) console.warn(warning);
  const sb = await startSandbox({
    fixture: values.fixture,
    port: Number(values.port),
    host: values.host,
    latency,
    faults,
    throttling: values.throttling,
    organizations: { emptyPages: values['org-empty-pages'] },
    allowShortSessions: values['allow-short-sessions'],
    ...(values['admin-token'] ? { adminToken: values['admin-token'] } : {}),
  });
  // Before the banner: whoever reads it may press Ctrl-C at once. Repeated signals (pnpm
  // forwards the terminal's SIGINT a second time) close only once.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void sb.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(sandboxBanner(sb));
}

main().catch((error: unknown) => {
  console.error(`rolegraph-sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
