#!/usr/bin/env node
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import type { GatewayConfig } from './config/config-schema.js';
import { loadConfigFile } from './config/load-config.js';
import { createGateway, type GatewayDeps } from './create-gateway.js';
import { createGatewayServer } from './create-gateway-server.js';
import { startDemo } from './demo.js';
import { createJsonLog } from './observability/log.js';

// main only reads configuration and listens; everything else is createGateway.
const log = createJsonLog();

function portFromEnv(): number | undefined {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`PORT must be 0..65535, got ${raw}`);
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, allowPositionals: false });
  const file = values.config ?? process.env.ROLEGRAPH_CONFIG;
  const envPort = portFromEnv();
  let config: GatewayConfig;
  let deps: Omit<GatewayDeps, 'config'> = {};
  let closeDemo: (() => Promise<void>) | undefined;
  if (file) {
    config = await loadConfigFile(file);
  } else {
    const demo = await startDemo({ port: envPort ?? 4000 });
    config = demo.config;
    deps = demo.deps;
    closeDemo = demo.close;
    log({ level: 'info', msg: 'demo mode: sandbox started', sandbox: demo.sandbox.endpoint });
  }
  const port = envPort ?? config.server.port;
  // Demo mode never leaves loopback, whatever the environment says.
  const host = closeDemo ? '127.0.0.1' : config.server.host;
  const gateway = createGateway({ config, log, ...deps });
  const server: Server = createGatewayServer(gateway, config.server);
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
    graphiql: config.server.graphiql,
  });
  if (config.server.graphiql) process.stderr.write(`\n  GraphiQL: ${url}\n\n`);
  // Who assumes the roles: logged, or a warning; /ready stays 503 until it is known.
  void gateway.checkSource();

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
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    log({ level: 'error', msg: 'invalid configuration', file: error.file, issues: error.issues });
    process.stderr.write(`${error.message}\n`);
  } else {
    log({
      level: 'error',
      msg: 'failed to start',
      error: error instanceof Error ? error.message : String(error),
    });
  }
  process.exit(1);
});
