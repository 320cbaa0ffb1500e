/**
 * The maps contract (../shared/DESIGN.md, "Maps contract").
 *
 * Keys are integers 0 ≤ key ≤ 2^31−1. Values are int32 integers except the
 * eight most negative ones (−2^31 … −2^31+7), which maps reserve as internal
 * sentinels. Every map rejects anything else with a RangeError naming the
 * parameter and the allowed range, before it changes anything.
 */

/** A map usable from any thread that has attached to it. */
export interface ConcurrentMap {
  /** Go: Load. */
  get(key: number): number | undefined;
  /** Go: Store. */
  set(key: number, value: number): void;
  /** Go: LoadAndDelete without the value; true if the key was present. */
  delete(key: number): boolean;
  /** Go: LoadOrStore; returns the value stored after the call. */
  getOrSet(key: number, value: number): number;
  /** Go: CompareAndSwap; false when the key is absent or holds another value. */
  compareAndSet(key: number, expected: number, value: number): boolean;
  /**
   * Atomic read-modify-write; returns the new value. An absent key counts as 0.
   * A result outside the allowed values throws RangeError and changes nothing.
   */
  add(key: number, delta: number): number;
  /** Number of entries; each map documents how approximate it is under concurrency. */
  size(): number;
  /** Go: Range; each map documents its consistency. */
  forEach(fn: (key: number, value: number) => void): void;
  /** Internal counters: misses, promotions, lock waits, resizes, probes, bytes… */
  stats(): Record<string, number>;
  /**
   * Optional: the calling thread holds no reference into the map's shared
   * memory and will not use the map again until its next call (a quiescent
   * point for epoch/QSBR reclamation). Harnesses call it when a thread goes idle.
   */
  quiesce?(): void;
}

/** Options a map is created with. Every field is validated at the boundary. */
export interface MapOptions {
  /** Initial number of entries to size for; integer ≥ 1, default 1024. */
  capacity?: number;
  /** Max occupied/slots before the table grows; 0 < loadFactor < 1, default 0.75. */
  loadFactor?: number;
  /** Sharded map only: number of shards, a power of two 1..1024, default 32. */
  shards?: number;
  /**
   * Shared maps only: bytes reserved for the map's arena (one fixed
   * SharedArrayBuffer; the OS commits pages lazily, so untouched reservation
   * costs no resident memory). Integer 65536..2^31−4096, default 256 MiB.
   * A map that outgrows it throws a RangeError naming maxBytes.
   */
  maxBytes?: number;
}

/**
 * What `create` returns and `attach` takes. Structured-cloneable: it is posted
 * to worker threads, and the SharedArrayBuffers inside it are shared, not copied.
 */
export interface MapHandle {
  /** The factory name that created it. */
  readonly map: string;
  readonly [field: string]: unknown;
}

export interface MapFactory {
  /** Registry name: 'js-map', 'plain', 'rwmutex', 'sharded', 'readdirty', 'hashtrie', or a plugin's own. */
  readonly name: string;
  /**
   * One-line description for help text and reports. Optional for a plugin:
   * where factories are loaded (harness/run/map-source.ts) it defaults to the name.
   */
  readonly description?: string;
  /** false: each thread gets a private copy (js-map); nothing is shared. */
  readonly shared: boolean;
  /** false for 'plain': concurrent writes are detected and fail the run. */
  readonly safeForConcurrentWrites: boolean;
  /** Main thread: allocate and initialise shared memory. */
  create(options?: MapOptions): MapHandle;
  /** Any thread: a view over the same memory (for a private map, a fresh private copy). */
  attach(handle: MapHandle): ConcurrentMap;
}

/** A factory with its description filled in: what loading a plugin gives (harness/run/map-source.ts checkMapFactory). */
export type DescribedMapFactory = MapFactory & { readonly description: string };
