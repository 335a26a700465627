import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { NodeHttpHandler } from '../node_modules/.pnpm/@smithy+node-http-handler@4.14.2/node_modules/@smithy/node-http-handler/dist-cjs/index.js';
const N = Number(process.argv[2] ?? 2000);
const mode = process.argv[3] ?? 'default';
const creds = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' });
const shared = new NodeHttpHandler();
const wrapped = { handle: (r, o) => shared.handle(r, o), destroy() {}, updateHttpClientConfig() {}, httpHandlerConfigs: () => ({}) };
function make(i) {
  const c = new EC2Client({ region: 'us-east-1', credentials: creds, endpoint: 'http://127.0.0.1:9', maxAttempts: 1,
    ...(mode === 'shared' ? { requestHandler: wrapped } : {}) });
  return c;
}
gc(); gc();
const before = process.memoryUsage().heapUsed;
const keep = [];
for (let i = 0; i < N; i++) keep.push(make(i));
gc(); gc();
const after = process.memoryUsage().heapUsed;
// now send one (failing) request through each to materialize lazy parts
if (process.argv[4] === 'used') {
  await Promise.all(keep.map((c) => c.send(new DescribeInstancesCommand({})).catch(() => {})));
  gc(); gc();
  const used = process.memoryUsage().heapUsed;
  console.log(mode, 'used', N, ((used - before) / N / 1024).toFixed(1), 'KB/client');
}
console.log(mode, 'made', N, ((after - before) / N / 1024).toFixed(1), 'KB/client');
