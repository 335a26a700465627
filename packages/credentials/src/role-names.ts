/**
 * The shape of an IAM role ARN STS accepts, in every partition.
 *
 * @example
 * ROLE_ARN_PATTERN.test('arn:aws:iam::123456789012:role/Reader'); // true
 */
export const ROLE_ARN_PATTERN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * The shape of an AWS region name.
 *
 * @example
 * REGION_PATTERN.test('eu-west-1'); // true
 */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/**
 * The session durations AssumeRole accepts, in seconds (a role's own maximum may be lower).
 *
 * @example
 * isRoleDurationSeconds(3600); // true
 */
export const ROLE_DURATION_SECONDS = { min: 900, max: 43_200 } as const;

/** Whether `value` is a whole number of seconds AssumeRole accepts as `DurationSeconds`. */
export function isRoleDurationSeconds(value: unknown): value is number {
  return (
    Number.isInteger(value) &&
    (value as number) >= ROLE_DURATION_SECONDS.min &&
    (value as number) <= ROLE_DURATION_SECONDS.max
  );
}
