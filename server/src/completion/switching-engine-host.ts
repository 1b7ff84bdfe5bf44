/**
 * The engine host the server builds: forwards every call to the native engine host, or to the
 * remote one when engine.backend is "remote" (settings can change it at any time). Each is made on
 * first use; switching away from one disposes it (the native model is unloaded), so only the
 * chosen one holds resources. No engine logic of its own.
 */
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { BranchChunk, BranchRequest, EngineHost, EngineHostStatus, GeneratedChunk, GenerateRequest, GenerateSummary, LoadedModel } from './engine-host.js';
import { NativeEngineHost } from './native-engine-host.js';
import { RemoteEngineHost } from './remote/remote-engine-host.js';

export interface EngineHostFactories {
  native: () => EngineHost;
  remote: () => EngineHost;
}

type Kind = keyof EngineHostFactories;

export class SwitchingEngineHost implements EngineHost {
  private kind: Kind = 'native';
  private readonly hosts: Partial<Record<Kind, EngineHost>> = {};
  private readonly make: EngineHostFactories;

  constructor(log: Logger, make?: Partial<EngineHostFactories>) {
    this.make = { native: () => new NativeEngineHost(log), remote: () => new RemoteEngineHost(log), ...make };
  }

  /** The host the current settings choose. */
  get active(): EngineHost {
    return (this.hosts[this.kind] ??= this.make[this.kind]());
  }

  configure(engine: Settings['engine']): void {
    const kind: Kind = engine.backend === 'remote' ? 'remote' : 'native';
    if (kind !== this.kind) {
      const old = this.hosts[this.kind];
      delete this.hosts[this.kind];
      void old?.dispose();
      this.kind = kind;
    }
    this.active.configure(engine);
  }

  ready(signal?: AbortSignal): Promise<LoadedModel> {
    return this.active.ready(signal);
  }

  generate(req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    return this.active.generate(req);
  }

  decodesTogether(): boolean {
    return this.active.decodesTogether?.() ?? false;
  }

  generateTogether(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    const active = this.active;
    if (!active.generateTogether) throw new Error(`the ${this.status().backend} engine does not decode branches together`);
    return active.generateTogether(req, branches);
  }

  canPrefetch(): boolean {
    return this.active.canPrefetch?.() ?? false;
  }

  takesExtraDrafts(): boolean {
    return this.active.takesExtraDrafts?.() ?? true;
  }

  closeSession(key: string): void {
    this.hosts[this.kind]?.closeSession(key);
  }

  status(): EngineHostStatus {
    return this.active.status();
  }

  async dispose(): Promise<void> {
    await Promise.all(Object.values(this.hosts).map((h) => h.dispose()));
  }
}
