/** A signal that follows another one: see {@link followSignal}. */
export interface FollowingSignal {
  /** Aborts with the followed signal's reason when that one aborts; `undefined` without one. */
  readonly signal: AbortSignal | undefined;
  /** The work is over: stop following (the signal then never aborts). */
  release(): void;
}

// One set of followers per followed signal, behind a single listener on it.
const followers = new WeakMap<AbortSignal, Set<AbortController>>();

const NOTHING_TO_RELEASE = () => {};

/**
 * A signal of its own for one piece of work under `parent` (one AWS call under a request's
 * signal), aborted with `parent.reason` when `parent` aborts, with one listener on `parent` however
 * many pieces follow it. A request that fans out to thousands of calls would otherwise hang
 * listeners on its signal by the thousand (the SDK adds two per call, the HTTP handler one more),
 * and Node's EventTarget walks its whole list of listeners on every `addEventListener` (a
 * duplicate check): 20,000 listeners on one signal took 1.2 s to add, so the cost per call grew
 * with the calls in flight (2% of the gateway's CPU in a warm query over 5,000 accounts x 17
 * regions). `release()` when the work is done; an aborted `parent` is given back as is.
 *
 * @example
 * const call = followSignal(request.signal);
 * try { await client.send(command, { abortSignal: call.signal }); } finally { call.release(); }
 */
export function followSignal(parent: AbortSignal | undefined): FollowingSignal {
  if (!parent || parent.aborted) return { signal: parent, release: NOTHING_TO_RELEASE };
  let set = followers.get(parent);
  if (!set) {
    const created = new Set<AbortController>();
    set = created;
    followers.set(parent, created);
    parent.addEventListener(
      'abort',
      () => {
        followers.delete(parent);
        for (const controller of created) controller.abort(parent.reason);
        created.clear();
      },
      { once: true },
    );
  }
  const controller = new AbortController();
  const own = set;
  own.add(controller);
  return { signal: controller.signal, release: () => own.delete(controller) };
}
