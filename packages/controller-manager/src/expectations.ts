import { realClock, type Clock } from '@k8ts/api';

/** How long expectations are trusted before a controller syncs anyway (upstream's ExpectationsTimeout). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation { add: number; del: number; deleting: Set<string>; at: number }

/**
 * What a controller is still waiting to see through its informers after it created or deleted pods
 * (upstream's UIDTrackingControllerExpectations): while creates or deletes are outstanding, a sync must not
 * act again on a stale cache, so a slow watch never causes a double create or delete.
 */
export class ControllerExpectations {
  private readonly byKey = new Map<string, Expectation>();
  constructor(private readonly clock: Clock = realClock) {}

  /** True when nothing is outstanding for `key` (or it never asked, or the expectations expired). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.at > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Expects `adds` creations and the deletion of the pods under `deleteKeys`, replacing what was expected. */
  expect(key: string, adds: number, deleteKeys: readonly string[] = []): void {
    this.byKey.set(key, { add: adds, del: deleteKeys.length, deleting: new Set(deleteKeys), at: this.clock.now() });
  }

  /** One expected creation was seen (or will never happen: the create failed). */
  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.add--;
  }

  /** The pod under `podKey` was seen deleted (or its delete failed); counted once per pod. */
  deletionObserved(key: string, podKey: string): void {
    const e = this.byKey.get(key);
    if (e?.deleting.delete(podKey)) e.del--;
  }

  /** Forgets `key` (its controller was deleted). */
  delete(key: string): void {
    this.byKey.delete(key);
  }
}
