import { isIPv4 } from 'node:net';
import type { Sandbox } from './start-sandbox.js';

/** A proxy address nothing listens on: whatever is not sent to the sandbox fails here. */
export const DEAD_PROXY = 'http://127.0.0.1:9';

/** A bind address of this machine only: `localhost`, `::1` or an IPv4 address in 127.0.0.0/8. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

/**
 * What the CLI prints on stderr before it binds a `--host` that is not loopback, or `undefined`.
 *
 * @example
 * hostWarning('0.0.0.0', false); // 'rolegraph-sandbox: warning: --host 0.0.0.0 is not loopback; ...'
 */
export function hostWarning(host: string, hasAdminToken: boolean): string | undefined {
  if (isLoopbackAddress(host)) return undefined;
  const admin = hasAdminToken ? '' : ', and the admin API answers loopback Hosts only (set --admin-token)';
  return `rolegraph-sandbox: warning: --host ${host} is not loopback; anyone who can reach it gets its credentials${admin}`;
}

/**
 * The CLI's start banner: shell lines a user can paste. None of them can reach real AWS with any
 * client version: every `aws` command names the sandbox with `--endpoint-url` (awscli 2.9 and
 * botocore 1.29 ignore `AWS_ENDPOINT_URL`), and the exported dead proxy, with only the sandbox's
 * host exempt, makes any later command that forgets the endpoint fail instead of sending the
 * sandbox's keys to AWS.
 */
export function sandboxBanner(sb: Pick<Sandbox, 'endpoint' | 'credentials' | 'fixture'>): string {
  const host = new URL(sb.endpoint).hostname.replace(/^\[|\]$/g, '');
  const noProxy = [...new Set([host, '127.0.0.1', 'localhost'])].join(',');
  const central = sb.fixture.accounts
    .flatMap((a) => a.users)
    .find((u) => u.name === sb.fixture.centralPrincipal);
  const roles = sb.fixture.accounts.flatMap((a) => a.roles.map((r) => `  ${a.alias.padEnd(12)} ${r.arn}`));
  const reader = sb.fixture.accounts
    .flatMap((a) => a.roles.map((r) => ({ alias: a.alias, arn: r.arn })))
    .find((r) => r.arn.endsWith(':role/RolegraphReader'));
  const cli = `aws --endpoint-url ${sb.endpoint}`;
  return `rolegraph-sandbox listening on ${sb.endpoint}

Use it from this shell (each command names the sandbox; the dead proxy stops anything else):
  export AWS_ACCESS_KEY_ID=${sb.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${sb.credentials.secretAccessKey}
  export AWS_REGION=us-east-1 AWS_STS_REGIONAL_ENDPOINTS=regional AWS_EC2_METADATA_DISABLED=true
  export AWS_ENDPOINT_URL=${sb.endpoint} HTTPS_PROXY=${DEAD_PROXY} HTTP_PROXY=${DEAD_PROXY} NO_PROXY=${noProxy}
  ${cli} sts get-caller-identity    # ${central?.arn ?? ''}
${
  sb.fixture.organization
    ? `  ${cli} organizations list-accounts --query 'Accounts[].[Id,Name,Status]' --output text
`
    : ''
}${
  reader
    ? `  # become ${reader.alias}'s reader role for the next commands:
  eval "$(${cli} sts assume-role --role-arn ${reader.arn} --role-session-name me --output text --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' | awk '{ printf "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s", $1, $2, $3 }')"
`
    : ''
}  ${cli} ec2 describe-instances --query 'Reservations[].Instances[].[InstanceId,InstanceType,State.Name]' --output text
  ${cli} s3 ls

SDKs: endpoint ${sb.endpoint} with the keys above (SDK v3: endpoint; boto3: endpoint_url).

Roles:
${roles.slice(0, 20).join('\n')}${roles.length > 20 ? `\n  ... and ${roles.length - 20} more` : ''}

Admin: curl ${sb.endpoint}/_sandbox/counters   (also /_sandbox/calls, /_sandbox/reset, /_sandbox/knobs)
Ctrl-C stops it.`;
}
