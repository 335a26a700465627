import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';

const creds = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' });
const wrapped = {
  handle: async () => ({ response: { statusCode: 500, headers: {}, body: undefined } }),
  destroy() {},
};
const keep = [];
function snap(name) {
  gc();
  gc();
  const f = v8.writeHeapSnapshot(`/tmp/limits-scratch/${name}.heapsnapshot`);
  return f;
}
const N = 2000;
for (let i = 0; i < 10; i++)
  keep.push(
    new EC2Client({
      region: 'us-east-1',
      credentials: creds,
      endpoint: 'http://127.0.0.1:9',
      requestHandler: wrapped,
      maxAttempts: 1,
    }),
  );
await Promise.all(keep.map((c) => c.send(new DescribeInstancesCommand({})).catch(() => {})));
snap('a');
for (let i = 0; i < N; i++)
  keep.push(
    new EC2Client({
      region: 'us-east-1',
      credentials: creds,
      endpoint: 'http://127.0.0.1:9',
      requestHandler: wrapped,
      maxAttempts: 1,
    }),
  );
await Promise.all(keep.slice(10).map((c) => c.send(new DescribeInstancesCommand({})).catch(() => {})));
snap('b');
