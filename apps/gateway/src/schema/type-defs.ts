/** The gateway's schema (SDL). Every `account` argument takes an alias or a 12-digit account id. */
export const typeDefs = /* GraphQL */ `
  "An ISO-8601 date-time in UTC, e.g. 2024-01-02T03:04:05.000Z."
  scalar DateTime

  type Query {
    "Every account the caller may use (configured, and discovered from the organization), or the named ones (aliases or ids), in order, each account once (at the first name given for it). An account that cannot be used is null with an error."
    accounts(aliases: [String!]): [Account]!
    "One account by alias or id."
    account(account: String!): Account
    "Instances of one account; every configured region of the account when region is omitted."
    instances(account: String!, region: String, filter: InstanceFilter, first: Int, after: String): InstanceConnection
    "One instance; every configured region is searched when region is omitted."
    instance(account: String!, region: String, id: String!): Instance
    buckets(account: String!, first: Int, after: String): BucketConnection
    bucket(account: String!, name: String!): Bucket
  }

  type Account {
    alias: String!
    accountId: String!
    "The regions the gateway queries for this account."
    regions: [String!]!
    "The account's name in AWS Organizations; null when the configured organization does not list it."
    name: String
    "The account's state in AWS Organizations; null when the configured organization does not list it."
    state: AccountState
    "The OU (or root) the account sits in directly; null when the configured organization does not list it."
    organizationalUnit: OrganizationalUnit
    status: AccountStatus!
    instances(region: String, filter: InstanceFilter, first: Int, after: String): InstanceConnection
    instance(region: String, id: String!): Instance
    buckets(first: Int, after: String): BucketConnection
    bucket(name: String!): Bucket
  }

  "The states AWS Organizations reports for an account."
  enum AccountState {
    PENDING_ACTIVATION
    ACTIVE
    SUSPENDED
    PENDING_CLOSURE
    CLOSED
  }

  "An organizational unit of AWS Organizations (or the root), as the gateway's last discovery saw it."
  type OrganizationalUnit {
    "The OU id (ou-...), or the root id (r-...) for accounts directly under the root."
    id: String!
    "OU names from the root down to this unit; empty for the root."
    path: [String!]!
    "The root id and every OU id from the root down to this unit."
    ancestorIds: [String!]!
  }

  "How the account's assumed-role session is doing. Never a secret."
  type AccountStatus {
    "STS GetCallerIdentity with the account's session."
    callerIdentity: CallerIdentity
    credentialState: CredentialState!
    credentialExpiry: DateTime
    lastRefresh: DateTime
    lastError: CredentialError
  }

  enum CredentialState {
    EMPTY
    FRESH
    ADVISORY
    MANDATORY
    EXPIRED
  }

  type CallerIdentity {
    account: String!
    arn: String!
    userId: String!
  }

  type CredentialError {
    code: String!
    message: String!
    at: DateTime!
    recoverable: Boolean!
  }

  type Tag {
    key: String!
    value: String!
  }

  enum InstanceState {
    PENDING
    RUNNING
    SHUTTING_DOWN
    TERMINATED
    STOPPING
    STOPPED
  }

  "All given filters must match; the values of one filter are alternatives."
  input InstanceFilter {
    ids: [String!]
    states: [InstanceState!]
    types: [String!]
    vpcIds: [String!]
    tags: [TagFilter!]
  }

  "values omitted: the instance only needs to carry the tag key."
  input TagFilter {
    key: String!
    values: [String!]
  }

  type PageInfo {
    endCursor: String
    hasNextPage: Boolean!
  }

  type Instance {
    id: String!
    region: String!
    accountId: String!
    "The alias of the account."
    account: String!
    type: String!
    state: InstanceState!
    launchTime: DateTime
    "The value of the Name tag."
    name: String
    tags: [Tag!]!
    privateIp: String
    publicIp: String
    vpcId: String
    subnetId: String
    imageId: String
    availabilityZone: String
    securityGroupIds: [String!]!
    volumeIds: [String!]!
    securityGroups: [SecurityGroup!]
    volumes: [Volume!]
  }

  type InstanceEdge {
    cursor: String!
    node: Instance!
  }

  type InstanceConnection {
    edges: [InstanceEdge!]!
    nodes: [Instance!]!
    pageInfo: PageInfo!
  }

  type SecurityGroup {
    id: String!
    region: String!
    accountId: String!
    name: String!
    description: String!
    vpcId: String
    tags: [Tag!]!
    inboundRuleCount: Int!
    outboundRuleCount: Int!
  }

  type Volume {
    id: String!
    region: String!
    accountId: String!
    sizeGiB: Int!
    type: String!
    state: String!
    encrypted: Boolean!
    availabilityZone: String
    iops: Int
    attachedInstanceIds: [String!]!
    tags: [Tag!]!
  }

  type Bucket {
    name: String!
    accountId: String!
    "The alias of the account."
    account: String!
    creationDate: DateTime
    region: String
    "Empty when the bucket has no tag set."
    tags: [Tag!]
    "Null when the bucket has no default encryption."
    encryption: BucketEncryption
    "Null when the bucket has no public access block."
    publicAccessBlock: PublicAccessBlock
    "Null when the bucket has no policy."
    policyStatus: BucketPolicyStatus
    objects(prefix: String, delimiter: String, first: Int, after: String): ObjectConnection
  }

  type BucketEdge {
    cursor: String!
    node: Bucket!
  }

  type BucketConnection {
    edges: [BucketEdge!]!
    nodes: [Bucket!]!
    pageInfo: PageInfo!
  }

  type BucketEncryption {
    algorithm: String!
    kmsKeyId: String
    bucketKeyEnabled: Boolean!
  }

  type PublicAccessBlock {
    blockPublicAcls: Boolean!
    ignorePublicAcls: Boolean!
    blockPublicPolicy: Boolean!
    restrictPublicBuckets: Boolean!
  }

  type BucketPolicyStatus {
    isPublic: Boolean!
  }

  type S3Object {
    key: String!
    "Bytes (a Float: objects may exceed 2^31)."
    size: Float!
    lastModified: DateTime
    storageClass: String
    etag: String
  }

  type S3ObjectEdge {
    cursor: String!
    node: S3Object!
  }

  type ObjectConnection {
    edges: [S3ObjectEdge!]!
    nodes: [S3Object!]!
    "Key prefixes rolled up by the delimiter (folders)."
    commonPrefixes: [String!]!
    pageInfo: PageInfo!
  }
`;
