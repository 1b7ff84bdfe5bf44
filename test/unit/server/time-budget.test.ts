/**
 * time-budget.ts: what an early answer shows of a generation's text so far (earlyPart: the line
 * being written while it is the first, whole lines after it), and TimeBudget, which resolves only
 * once its deadline has passed and the text is worth showing, on an update or by its own timer.
 */
import { describe, expect, it } from 'vitest';
import { earlyPart, TimeBudget } from '../../../server/src/completion/time-budget.js';
import { nowMs } from '../../../server/src/trace/clock.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await sleep(0);
  return done;
};

describe('earlyPart', () => {
  it('shows the first line as far as it is written', () => {
    expect(earlyPart('return a +')).toBe('return a +');
  });
  it('shows whole lines once there is one, never half of a later line', () => {
    expect(earlyPart('if (a) {\n  retu')).toBe('if (a) {\n');
    expect(earlyPart('a;\nb;\nc')).toBe('a;\nb;\n');
    expect(earlyPart('a;\n')).toBe('a;\n');
  });
  it('counts from the typed text: the line the cursor is on is shown as far as written', () => {
    // typed "a;\nb" (4 characters): the cursor is on the second line, and no line break lies beyond it
    expect(earlyPart('a;\nb + c', 4)).toBe('a;\nb + c');
    expect(earlyPart('a;\nb + c;\nd', 4)).toBe('a;\nb + c;\n');
  });
});

describe('TimeBudget', () => {
  it('does not resolve before its deadline, however showable the text', async () => {
    const b = new TimeBudget(nowMs() + 60_000, () => true);
    b.update('return value;');
    expect(await settled(b.reached)).toBe(false);
    b.dispose();
  });

  it('resolves on the first update past the deadline whose text is showable', async () => {
    const b = new TimeBudget(nowMs() - 1, (t) => t.length >= 6);
    b.update('ret');
    expect(await settled(b.reached)).toBe(false);
    b.update('return');
    expect(await b.reached).toBe('return');
  });

  it('resolves by its timer when the text was already showable as the deadline passed', async () => {
    const b = new TimeBudget(nowMs() + 20, (t) => t.length >= 6);
    b.update('return x');
    expect(await b.reached).toBe('return x');
  });

  it('never resolves once disposed', async () => {
    const b = new TimeBudget(nowMs() + 10, () => true);
    b.update('return x');
    b.dispose();
    await sleep(30);
    b.update('return xy');
    expect(await settled(b.reached)).toBe(false);
  });
});
