/** One problem in a configuration: the file, the field path (`accounts[1].roleArn`) and what is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * The configuration cannot be used. The message names the file and every bad field, e.g.
 * `gateway.yaml: accounts[1].roleArn: must be an IAM role ARN ...`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'INVALID_CONFIG' as const;
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(
      `${file}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
      options,
    );
    this.file = file;
    this.issues = issues;
  }
}

/** `['accounts', 1, 'roleArn']` as `accounts[1].roleArn`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
