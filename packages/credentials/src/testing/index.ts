export type { FakeSendHandler, RecordedCall } from './fake-session.js';
export { awsError, createFakeSession } from './fake-session.js';
