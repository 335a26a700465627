/** The STS bits the benchmark cases share. */
import type { AssumeRoleCommandOutput } from '@aws-sdk/client-sts';

/** An AssumeRole answer's credentials, as an SDK client's `credentials` setting. */
export function credentialsOf(output: AssumeRoleCommandOutput): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
} {
  const c = output.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}
