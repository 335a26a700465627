/** What identifies one AWS answer: who asked, where, and exactly what. */
export interface AnswerKeyParts {
  /** The role ARN of the session: two roles in one account may see different things. */
  roleArn: string;
  accountId: string;
  region: string;
  /** The service as its SDK client names it, lower case: `ec2`, `s3`. */
  service: string;
  operation: string;
  /** The plain input the command is built from. */
  input: object;
}

/**
 * JSON with object keys sorted and `undefined` members left out, so two inputs that mean the
 * same call give the same text whatever order their fields were written in. Array order is
 * kept (it can matter to AWS). Dates become ISO strings, byte arrays their base64.
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: undefined, c: 3 }] }); // '{"a":[2,{"c":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    // undefined, functions and symbols only reach here at the top level or in arrays.
    return JSON.stringify(value) ?? 'null';
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * The cache key of one AWS answer: service, operation, account, region, role ARN and the
 * canonical JSON of the input, in that order. It carries no secret (no credentials, no
 * external id), so it may go to a shared store such as Redis.
 *
 * @example
 * answerKey({ roleArn: 'arn:aws:iam::111111111111:role/Reader', accountId: '111111111111',
 *   region: 'us-east-1', service: 'ec2', operation: 'DescribeInstances', input: { MaxResults: 5 } });
 * // 'ec2:DescribeInstances:111111111111:us-east-1:arn:aws:iam::111111111111:role/Reader:{"MaxResults":5}'
 */
export function answerKey(parts: AnswerKeyParts): string {
  const { service, operation, accountId, region, roleArn, input } = parts;
  return `${service}:${operation}:${accountId}:${region}:${roleArn}:${canonicalJson(input)}`;
}
