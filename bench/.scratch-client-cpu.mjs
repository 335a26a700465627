import { EC2Client } from '@aws-sdk/client-ec2';
const creds = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' });
const wrapped = { handle: async () => { throw new Error('x'); }, destroy() {} };
for (let round = 0; round < 3; round++) {
  const t = performance.now(); const keep = [];
  for (let i = 0; i < 5000; i++) keep.push(new EC2Client({ region: 'us-east-1', credentials: creds, endpoint: 'http://127.0.0.1:9', requestHandler: wrapped }));
  console.log('construct µs/client', ((performance.now() - t) * 1000 / 5000).toFixed(1));
}
