#!/usr/bin/env node
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import type { GatewayConfig } from './config/config-schema.js';
import { loadConfigFile } from './config/load-config.js';
import { createGateway, type GatewayDeps } from './create-gateway.js';
import { createGatewayServer } from './create-gateway-server.js';
import { startDemo } from './demo.js';
import { createLog, type LogFn } from './observability/log.js';

// main only reads configuration and listens; everything else is createGateway.

type LogFormat = 'json' | 'pretty';

/** JSON lines for collectors when a config file is given; human lines in demo mode. */
function logFormat(demo: boolean): LogFormat {
  const chosen = process.env.ROLEGRAPH_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  if (chosen) throw new TypeError(`ROLEGRAPH_LOG_FORMAT must be json or pretty, got ${chosen}`);
  return demo ? 'pretty' : 'json';
}

/**
 * A relative config path is the user's: under `pnpm start` the process runs in another
 * directory than the one they typed the command in, which pnpm passes as INIT_CWD.
 */
function configPath(file: string): string {
  const { INIT_CWD, npm_lifecycle_event } = process.env;
  return resolve(npm_lifecycle_event && INIT_CWD ? INIT_CWD : process.cwd(), file);
}

function portFromEnv(): number | undefined {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`PORT must be 0..65535, got ${raw}`);
  return port;
}

// Until the configuration is read, the format follows what was asked for (a file or not).
let log: LogFn = createLog({ format: 'json' });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, allowPositionals: false });
  const given = values.config ?? process.env.ROLEGRAPH_CONFIG;
  const file = given ? configPath(given) : undefined;
  log = createLog({ format: logFormat(!file) });
  const envPort = portFromEnv();
  let config: GatewayConfig;
  let deps: Omit<GatewayDeps, 'config'> = {};
  let closeDemo: (() => Promise<void>) | undefined;
  let demoAccounts: string[] | undefined;
  if (file) {
    config = await loadConfigFile(file);
  } else {
    const demo = await startDemo({ port: envPort ?? 4000 });
    config = demo.config;
    deps = demo.deps;
    closeDemo = demo.close;
    log({ level: 'info', msg: 'demo mode: sandbox started', sandbox: demo.sandbox.endpoint });
    demoAccounts = config.accounts.map((a) => a.alias);
  }
  const port = envPort ?? config.server.port;
  // Demo mode never leaves loopback, whatever the environment says.
  const host = closeDemo ? '127.0.0.1' : config.server.host;
  const gateway = createGateway({ config, log, ...deps });
  if (closeDemo && config.organization) {
    // The demo's organization is local: list it before the first query, so `accounts` answers
    // from the start instead of ACCOUNTS_NOT_DISCOVERED (bounded; a failure is retried anyway).
    const deadline = Date.now() + 10_000;
    while (gateway.accounts.status().state !== 'ready' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const server: Server = createGatewayServer(gateway, config.server);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', msg: 'shutting down', signal });
    gateway.drain();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), config.server.shutdownGraceMs);
    grace.unref();
    await closed;
    clearTimeout(grace);
    await gateway.close();
    await closeDemo?.();
    log({ level: 'info', msg: 'stopped' });
    process.exit(0);
  };
  // Before listening, so a signal right after the 'listening' line is never fatal. `on`, not
  // `once`: pnpm forwards the terminal's Ctrl-C as a second SIGINT, which must not
  // kill the process mid-drain (that exit would be reported as a failed command).
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}/graphql`;
  log({
    level: 'info',
    msg: 'listening',
    url,
    accounts: config.accounts.length,
    // Discovered accounts follow in the `organization discovered` line.
    organization: config.organization !== undefined,
    graphiql: config.server.graphiql,
  });
  // One banner, for people: JSON output stays one object per line for collectors.
  if (logFormat(!file) === 'pretty') {
    const base = url.replace(/\/graphql$/, '');
    process.stdout.write(
      [
        '',
        `  rolegraph gateway${demoAccounts ? ` on the sandbox (accounts ${demoAccounts.join(', ')})` : ''}`,
        ...(config.server.graphiql ? [`  GraphiQL  ${url}`] : [`  GraphQL   ${url}`]),
        `  Status    ${base}/status`,
        `  Metrics   ${base}/metrics`,
        '  Ctrl-C stops it.',
        '',
        '',
      ].join('\n'),
    );
  }
  // Who assumes the roles: logged, or a warning; /ready stays 503 until it is known.
  void gateway.checkSource();
}

// One line per failure: the message says it all (a ConfigError names the resolved file and field).
main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    log({
      level: 'error',
      msg: `invalid configuration: ${error.message}`,
      file: error.file,
      issues: error.issues,
    });
  } else {
    log({
      level: 'error',
      msg: `failed to start: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  process.exit(1);
});
