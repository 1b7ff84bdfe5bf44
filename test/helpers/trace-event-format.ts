/**
 * A checker for Chrome trace-event JSON as Perfetto and chrome://tracing read it (the Trace Event
 * Format document): the JSON Object Format with a traceEvents array; every event has name, ph, pid
 * and tid; complete events (ph "X") have numeric ts and dur >= 0; metadata events (ph "M") name a
 * process or thread in args.name. On each track (pid, tid) the X events, taken in file order, start
 * in time order (longer first at equal starts) and nest: a slice that starts inside another ends
 * inside it. Returns the problems found (empty: valid). Tests only.
 */

export function traceEventProblems(json: unknown): string[] {
  const problems: string[] = [];
  const events = (json as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) return ['no traceEvents array (JSON Object Format)'];
  const tracks = new Map<string, { ts: number; end: number; name: string }[]>();
  const last = new Map<string, { ts: number; dur: number }>();
  events.forEach((e: Record<string, unknown>, i) => {
    const where = `event ${i} (${String(e?.name)})`;
    if (typeof e !== 'object' || e === null) return void problems.push(`${where}: not an object`);
    if (typeof e.name !== 'string') problems.push(`${where}: name is not a string`);
    if (typeof e.ph !== 'string') return void problems.push(`${where}: no ph`);
    if (typeof e.pid !== 'number' || typeof e.tid !== 'number') problems.push(`${where}: pid and tid must be numbers`);
    if (e.ph === 'M') {
      if (!['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index'].includes(e.name as string)) problems.push(`${where}: unknown metadata event`);
      const args = e.args as Record<string, unknown> | undefined;
      if ((e.name === 'process_name' || e.name === 'thread_name') && typeof args?.name !== 'string') problems.push(`${where}: args.name must be a string`);
      return;
    }
    if (e.ph !== 'X') return void problems.push(`${where}: ph ${String(e.ph)} (only X and M are expected)`);
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) return void problems.push(`${where}: ts must be a number (microseconds)`);
    if (typeof e.dur !== 'number' || !Number.isFinite(e.dur) || e.dur < 0) return void problems.push(`${where}: dur must be a number >= 0`);
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null)) problems.push(`${where}: args must be an object`);
    const key = `${e.pid}/${e.tid}`;
    const prev = last.get(key);
    if (prev && (e.ts < prev.ts || (e.ts === prev.ts && e.dur > prev.dur))) problems.push(`${where}: out of order on track ${key}`);
    last.set(key, { ts: e.ts, dur: e.dur });
    let stack = tracks.get(key);
    if (!stack) tracks.set(key, (stack = []));
    while (stack.length > 0 && e.ts >= stack.at(-1)!.end && !(e.dur === 0 && e.ts === stack.at(-1)!.ts)) stack.pop();
    const parent = stack.at(-1);
    const end = e.ts + e.dur;
    if (parent && end > parent.end) problems.push(`${where}: [${e.ts}, ${end}] starts inside ${parent.name} [${parent.ts}, ${parent.end}] but ends after it (unbalanced nesting)`);
    stack.push({ ts: e.ts, end, name: e.name as string });
  });
  return problems;
}
