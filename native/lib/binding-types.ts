/**
 * The TypeScript mirror of what engine_addon.node exports. Only binding.ts and the wrapper classes
 * use it; everything else goes through the public API in index.ts.
 */

/** One compute backend as the registry reports it. */
export interface BackendReport {
  name: string;
  available: boolean;
  /** Present when available: what the backend runs on. */
  device?: string;
  /** Present when unavailable: "not built", "module failed to load: …", "no device: …", "API version mismatch: …". */
  reason?: string;
}

export interface NativeBinding {
  backends(): BackendReport[];
}
