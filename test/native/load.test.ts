/**
 * The addon loads on a machine without a GPU and reports its backends: the CPU always available,
 * CUDA either available with a device or unavailable with a reason.
 */
import { describe, expect, it } from 'vitest';
import { backends } from '../../native/lib/index.js';

describe('engine addon', () => {
  it('reports the CPU backend as available', () => {
    const cpu = backends().find((b) => b.name === 'cpu');
    expect(cpu).toMatchObject({ available: true });
    expect(cpu?.device).toMatch(/x86-64|aarch64|scalar/);
  });

  it('reports CUDA with a device when available and with a reason when not', () => {
    const cuda = backends().find((b) => b.name === 'cuda');
    expect(cuda).toBeDefined();
    if (cuda!.available) expect(cuda!.device).toBeTruthy();
    else expect(cuda!.reason).toMatch(/^(not built|module failed to load: |no device: |API version mismatch: )/);
  });
});
