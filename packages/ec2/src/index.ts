export type { Ec2Loaders, Ec2LoadersOptions } from './ec2-loaders.js';
export { createEc2Loaders } from './ec2-loaders.js';
export type { Ec2ErrorOptions } from './errors.js';
export { AdapterErrorCode, Ec2Error } from './errors.js';
export type { ListInstancesArgs } from './list-instances.js';
export { toInstanceFilters } from './list-instances.js';
export type { Origin } from './map.js';
export { toInstance, toSecurityGroup, toTags, toVolume } from './map.js';
export type { RegionCache, RegionCacheOptions } from './region-cache.js';
export { createRegionCache } from './region-cache.js';
export {
  INSTANCE_ID_PATTERN,
  regionalKey,
  SECURITY_GROUP_ID_PATTERN,
  VOLUME_ID_PATTERN,
} from './regional-loaders.js';
export type {
  Instance,
  InstanceFilter,
  InstanceState,
  Page,
  RegionalId,
  SecurityGroup,
  Tag,
  Volume,
} from './types.js';
