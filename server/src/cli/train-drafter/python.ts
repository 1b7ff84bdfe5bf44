/**
 * Step 2 of `slipstream train-drafter`: runs the PyTorch training step
 * (`/usr/bin/python3 -m slipstream_train.distill`, training/slipstream_train/distill.py) with the
 * CPU settings training/run.sh uses (tcmalloc preloaded when installed, OpenBLAS on 2 threads,
 * OPENBLAS_CORETYPE unset), its progress lines passed through to stderr. Also the check that
 * PyTorch is there at all, with the fix in the message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = process.env.SLIPSTREAM_PYTHON ?? '/usr/bin/python3';

/** The training/ folder of this checkout or installed package (package.json "files" carries
 * training/slipstream_train and setup.sh), or an error saying why there is none. */
export function trainingDir(root: string): string {
  const dir = join(root, 'training');
  if (!existsSync(join(dir, 'slipstream_train', 'distill.py')))
    throw new Error(`${dir}/slipstream_train/distill.py is missing: the installation is incomplete (reinstall the package, or run from a checkout of the repository)`);
  return dir;
}

/** Throws a clear error when python3, PyTorch or NumPy is missing. */
export function checkPython(training: string): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? `${PYTHON} could not be run (${r.error.message})` : `${PYTHON} cannot import torch and numpy: ${(r.stderr ?? '').trim().split('\n').pop()}`;
    throw new Error(`${why}. Install PyTorch with: bash ${join(training, 'setup.sh')} (Debian's python3-torch, python3-numpy, tcmalloc, OpenBLAS)`);
  }
}

function tcmalloc(): string | undefined {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    try {
      const f = readdirSync(dir).find((n) => n === 'libtcmalloc_minimal.so.4');
      if (f) return join(dir, f);
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Runs distill with args; resolves on exit 0, rejects with the exit code otherwise. */
export function runDistill(training: string, args: string[], signal?: AbortSignal): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: training + (process.env.PYTHONPATH ? `:${process.env.PYTHONPATH}` : '') };
  const tc = tcmalloc();
  if (tc) env.LD_PRELOAD = tc + (env.LD_PRELOAD ? `:${env.LD_PRELOAD}` : '');
  delete env.OPENBLAS_CORETYPE;
  env.OPENBLAS_NUM_THREADS = env.OPENBLAS_NUM_THREADS ?? '2';
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'slipstream_train.distill', ...args], { env, stdio: ['ignore', 2, 2], signal });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`training (python3 -m slipstream_train.distill) failed: ${sig ? `signal ${sig}` : `exit ${code}`}`));
    });
  });
}
