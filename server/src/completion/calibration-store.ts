/**
 * Mode auto's calibrations kept across server starts: a server that starts again with the same
 * model and drafter files, engine build, weight format, kernel path, thread count and CPU decides
 * its decoding mode from the calibration measured last time instead of measuring again (~0.35 s
 * of both cores on the shipped pair before its first suggestion, more on larger models). The same
 * file keeps the row-cost checks of drafts without a drafter (row-cost.ts: 0.1-1 s on big models).
 *
 * One JSON file, `mode-calibration.json`, in the user's cache directory (cacheDirPath: only the
 * server's environment names it, never a client). It holds up to MAX_ENTRIES calibrations, newest
 * first, each under a key that hashes what it was measured on (calibrationIdentity); one older than
 * MAX_AGE_MS is measured again. Written whole to a temporary file and renamed, so a reader never
 * sees half a file; two servers saving at once lose one of the two entries at worst. A file that
 * cannot be read or parsed, or an entry of the wrong shape, is ignored (the server calibrates as it
 * did without a cache); a failure to write is logged by the caller. The file only ever chooses
 * between plain decoding and ReDrafter shapes, and whether drafts are verified without a drafter,
 * which give the same output (verification is exact), so a stale or edited file costs speed, not
 * correctness.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { arch, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { userDirPath } from '../user-dir.js';
import { MAX_BEAMS, MAX_BEAM_LENGTH, MIN_BEAM_LENGTH, type Calibration, type ShapeFigures, type TreeShape } from './mode-calibration.js';
import type { RowCost } from './row-cost.js';

export const CALIBRATION_FILE_NAME = 'mode-calibration.json';
/** Calibrations kept (different models, drafters, thread counts or shape settings). */
export const MAX_ENTRIES = 16;
/** A calibration older than this is measured again (a week: machines and their loads change). */
export const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Bumped whenever the calibration's method or the file's layout changes, so older entries stop matching. */
const STORE_VERSION = 1;

/**
 * The cache directory: $SLIPSTREAM_CACHE_DIR, else $XDG_CACHE_HOME/slipstream, else
 * ~/.cache/slipstream (an XDG_CACHE_HOME that is not absolute is ignored, as the spec says).
 */
export function cacheDirPath(env: NodeJS.ProcessEnv = process.env): string {
  return userDirPath(env, 'SLIPSTREAM_CACHE_DIR', 'XDG_CACHE_HOME', ['.cache']);
}

/** A file's identity for the key: its name, size and modification time (a rewritten file is another calibration). */
type FileStamp = [name: string, size: number, mtimeMs: number];

/** The regular files directly in a model or drafter folder, by name. */
async function folderStamps(dir: string): Promise<FileStamp[]> {
  const out: FileStamp[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const st = await fs.stat(join(dir, e.name)).catch(() => null);
    if (st?.isFile()) out.push([e.name, st.size, st.mtimeMs]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What a calibration (or a row-cost check) was measured on, as calibrationIdentity takes it. */
export interface CalibrationSubject {
  modelDir: string;
  /** null: no drafter (a row-cost check). */
  drafterDir: string | null;
  /** The loaded engine addon's file (a rebuilt engine is measured again). */
  addonPath: string;
  /** The package version. */
  version: string;
  /** From the loaded model's info: the weights as computed, the matmul path, the threads, the K/V dtype. */
  computeDtype: string;
  kernelPath: string;
  threads: number;
  kvDtype: string;
  /** The shapes the calibration measures (candidateShapes); none for a row-cost check. */
  shapes: readonly TreeShape[];
  /** A row-cost check: the rows of its many-row forward. */
  rows?: number;
}

/**
 * The key of a calibration: a SHA-256 over everything that changes what it would measure (the
 * subject's fields, the stamps of the model's, the drafter's and the addon's files, this CPU's model
 * name, logical CPU count and architecture, STORE_VERSION); `what`, a line for people reading the file.
 */
export async function calibrationIdentity(s: CalibrationSubject): Promise<{ key: string; what: string }> {
  const addon = await fs.stat(s.addonPath);
  const cpu = cpus();
  const identity = {
    store: STORE_VERSION,
    version: s.version,
    addon: [resolve(s.addonPath), addon.size, addon.mtimeMs],
    model: [await fs.realpath(s.modelDir), await folderStamps(s.modelDir)],
    drafter: s.drafterDir === null ? null : [await fs.realpath(s.drafterDir), await folderStamps(s.drafterDir)],
    engine: [s.computeDtype, s.kernelPath, s.threads, s.kvDtype],
    cpu: [cpu[0]?.model ?? '', cpu.length, arch()],
    shapes: s.shapes.map((x) => [x.beams, x.beamLength]),
    ...(s.rows !== undefined ? { rows: s.rows } : {}),
  };
  const key = createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  const pair = s.drafterDir === null ? `${s.modelDir}, ${s.rows ?? 0} rows` : `${s.modelDir} + ${s.drafterDir}`;
  const what = `${pair}, ${s.computeDtype} on ${s.kernelPath}, ${s.threads} threads, ${cpu[0]?.model ?? 'unknown CPU'}`;
  return { key, what };
}

/** One kept measurement: a calibration or a row-cost check. */
interface Entry {
  key: string;
  what: string;
  calibration?: Calibration;
  rowCost?: RowCost;
}

interface StoreFile {
  version: number;
  entries: Entry[];
}

const finite = (x: unknown, min = 0): x is number => typeof x === 'number' && Number.isFinite(x) && x >= min;
const int = (x: unknown, min: number, max: number): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;

function isShapeFigures(x: unknown): x is ShapeFigures {
  const s = x as Partial<ShapeFigures> | null;
  return !!s && int(s.beams, 1, MAX_BEAMS) && int(s.beamLength, MIN_BEAM_LENGTH, MAX_BEAM_LENGTH) && finite(s.msPerToken) && finite(s.tokensPerStep) && finite(s.speedup) && int(s.rounds, 0, 1000);
}

/** Whether a parsed value is a calibration this server can decide with (every figure finite, shapes within the engine's bounds). */
export function isCalibration(x: unknown): x is Calibration {
  const c = x as Partial<Calibration> | null;
  return (
    !!c && int(c.tokens, 1, 1 << 20) && int(c.promptTokens, 1, 1 << 24) && int(c.rounds, 0, 1000) && finite(c.arMsPerToken) && finite(c.ms) &&
    typeof c.measuredAt === 'string' && Number.isFinite(Date.parse(c.measuredAt)) && Array.isArray(c.shapes) && c.shapes.length > 0 && c.shapes.every(isShapeFigures)
  );
}

/** Whether a parsed value is a row-cost check this server can decide with. */
export function isRowCost(x: unknown): x is RowCost {
  const c = x as Partial<RowCost> | null;
  return (
    !!c && int(c.rows, 2, 64) && int(c.context, 1, 1 << 20) && finite(c.oneMs) && finite(c.manyMs) && finite(c.ratio) && finite(c.ms) &&
    typeof c.measuredAt === 'string' && Number.isFinite(Date.parse(c.measuredAt))
  );
}

function isEntry(x: unknown): x is Entry {
  const e = x as Partial<Entry> | null;
  if (!e || typeof e.key !== 'string' || typeof e.what !== 'string') return false;
  return e.calibration !== undefined ? isCalibration(e.calibration) && e.rowCost === undefined : isRowCost(e.rowCost);
}

/** Calibrations in one file of a cache directory. */
export class CalibrationStore {
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(dir, CALIBRATION_FILE_NAME);
  }

  /** The file's valid entries, newest first; none when it is missing, unreadable or not this layout. */
  private async entries(): Promise<Entry[]> {
    let text: string;
    try {
      const st = await fs.stat(this.file);
      if (!st.isFile() || st.size > 1 << 20) return [];
      text = await fs.readFile(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (parsed.version !== STORE_VERSION || !Array.isArray(parsed.entries)) return [];
      return parsed.entries.filter(isEntry);
    } catch {
      return [];
    }
  }

  /** The calibration saved under key, measured less than MAX_AGE_MS ago (and not in the future); null when there is none. */
  async find(key: string): Promise<Calibration | null> {
    const c = (await this.fresh(key))?.calibration;
    return c ? { ...c, source: 'cache' } : null;
  }

  /** The row-cost check saved under key, as find does. */
  async findRowCost(key: string): Promise<RowCost | null> {
    const c = (await this.fresh(key))?.rowCost;
    return c ? { ...c, source: 'cache' } : null;
  }

  /** The entry under key, when measured less than MAX_AGE_MS ago (and not in the future). */
  private async fresh(key: string): Promise<Entry | null> {
    const e = (await this.entries()).find((x) => x.key === key);
    const at = e?.calibration?.measuredAt ?? e?.rowCost?.measuredAt;
    if (!e || at === undefined) return null;
    const age = this.now() - Date.parse(at);
    return age < 0 || age > MAX_AGE_MS ? null : e;
  }

  /** Saves a calibration under key (replacing an older one), keeping the MAX_ENTRIES newest; creates the directory (0700). Throws on a failed write. */
  async save(key: string, what: string, calibration: Calibration): Promise<void> {
    await this.saveEntry({ key, what, calibration: { ...calibration, source: 'measured' as const } });
  }

  /** Saves a row-cost check under key, as save does. */
  async saveRowCost(key: string, what: string, rowCost: RowCost): Promise<void> {
    await this.saveEntry({ key, what, rowCost: { ...rowCost, source: 'measured' as const } });
  }

  private async saveEntry(entry: Entry): Promise<void> {
    const kept = (await this.entries()).filter((x) => x.key !== entry.key);
    const entries: Entry[] = [entry, ...kept].slice(0, MAX_ENTRIES);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await fs.writeFile(tmp, `${JSON.stringify({ version: STORE_VERSION, entries } satisfies StoreFile, null, 1)}\n`, { mode: 0o600 });
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }
}
