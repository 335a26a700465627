/**
 * How many AWS calls one unit of work (a gateway request) may still send, and how many it sent
 * and saw fail. `callAws` takes one before every send; once none is left the call is not sent
 * and fails with `AWS_CALL_BUDGET_EXCEEDED`. SDK retries of one call do not count again.
 */
export interface AwsCallBudget {
  /** Takes one call; `false` when the budget is spent. */
  take(): boolean;
  /** The budget it started with. */
  readonly limit: number;
  /** Calls taken so far: the AWS calls the unit of work sent. */
  readonly used: number;
  /** How many of them failed (counted by `callAws`). */
  readonly failed: number;
  /** `callAws` calls this when a call it sent failed. */
  recordFailure(): void;
}

/**
 * A budget of `limit` AWS calls, shared by every adapter of one request.
 *
 * @example
 * const budget = createAwsCallBudget(1000);
 * createEc2Loaders({ session, budget });
 */
export function createAwsCallBudget(limit: number): AwsCallBudget {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new TypeError(`createAwsCallBudget: limit must be an integer >= 0, got ${String(limit)}`);
  }
  let used = 0;
  let failed = 0;
  return {
    limit,
    get used() {
      return used;
    },
    get failed() {
      return failed;
    },
    recordFailure() {
      failed++;
    },
    take() {
      if (used >= limit) return false;
      used++;
      return true;
    },
  };
}
