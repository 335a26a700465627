import type { CredentialStatus } from '@rolegraph/credentials';
import type { Instance } from '@rolegraph/ec2';
import type { Bucket } from '@rolegraph/s3';
import type { AccountPlacement } from '../config/config-schema.js';
import type { AccountScope } from './context.js';

// What the resolvers pass down for the SDL's object types (GraphQL Code Generator's
// `mappers` in codegen.ts); a type not listed here is passed as the generated type itself.

/** An instance and the account it was read with, so nested fields use the same loaders. */
export type InstanceNode = Instance & { scope: AccountScope };
/** A bucket and the account it was read with. */
export type BucketNode = Bucket & { scope: AccountScope };
/** A session's credential state as `@rolegraph/credentials` reports it (`fresh`, `expired`, ...). */
export type CredentialStateValue = CredentialStatus['state'];
/** An account's place in the organization: `OrganizationalUnit` is its parent unit. */
export type OrganizationalUnitNode = AccountPlacement;
