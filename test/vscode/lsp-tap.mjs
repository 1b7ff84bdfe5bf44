// A transparent tap between the VS Code extension and its real server, for the e2e tests
// (suggestion-finished.e2e.test.ts), run as the user's `slipstream.server.command`:
//   node lsp-tap.mjs LOG PROGRAM ARGS... (the extension appends `serve --stdio`)
// starts PROGRAM ARGS, passes every JSON-RPC frame through unchanged, whole frames only, and appends
// one JSON line per message of interest to LOG (initialize's experimental capabilities, didOpen /
// didChange versions, inline completion requests, configuration changes, slipstream/suggestionFinished).
// A test makes it send a notification of its own to the extension by writing the message's JSON to
// LOG.inject (it is read once and removed, then logged as "injected"), and while LOG.mute exists
// the server's own slipstream/suggestionFinished notifications are dropped (logged as "dropped").
// Nothing else reaches stdout.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';

const [log, program, ...args] = process.argv.slice(2);
if (!log || !program) {
  process.stderr.write('usage: node lsp-tap.mjs LOG PROGRAM [ARGS...]\n');
  process.exit(2);
}
const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'inherit'] });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.stdin.on('end', () => child.stdin.end());

const note = (entry) => appendFileSync(log, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);

function summary(msg) {
  const p = msg.params ?? {};
  switch (msg.method) {
    case 'initialize':
      return { experimental: p.capabilities?.experimental ?? null };
    case 'textDocument/didOpen':
      return { uri: p.textDocument?.uri, version: p.textDocument?.version };
    case 'textDocument/didChange':
      return { uri: p.textDocument?.uri, version: p.textDocument?.version };
    case 'textDocument/inlineCompletion':
      return { id: msg.id, uri: p.textDocument?.uri, version: p.textDocument?.version, position: p.position, triggerKind: p.context?.triggerKind };
    case 'workspace/didChangeConfiguration':
      return { timeBudgetMs: p.settings?.slipstream?.['completion.timeBudgetMs'] };
    case 'slipstream/suggestionFinished':
      return { uri: p.textDocument?.uri, version: p.textDocument?.version, position: p.position };
    default:
      return undefined;
  }
}

/** Splits `Content-Length` frames out of a byte stream; calls `onFrame(rawBytes, message)` per whole frame. */
function frames(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: *(\d+)/i.exec(buf.subarray(0, end).toString('ascii'))?.[1]);
      if (!Number.isFinite(length)) throw new Error(`lsp-tap: a frame without Content-Length: ${buf.subarray(0, end).toString()}`);
      if (buf.length < end + 4 + length) return;
      const raw = buf.subarray(0, end + 4 + length);
      buf = buf.subarray(end + 4 + length);
      onFrame(raw, JSON.parse(raw.subarray(end + 4).toString('utf8')));
    }
  };
}

const tapped = (dir) => (raw, msg) => {
  const s = typeof msg.method === 'string' ? summary(msg) : undefined;
  if (s) note({ dir, method: msg.method, ...s });
};
process.stdin.on('data', frames((raw, msg) => {
  tapped('client')(raw, msg);
  child.stdin.write(raw);
}));
child.stdout.on('data', frames((raw, msg) => {
  if (msg.method === 'slipstream/suggestionFinished' && existsSync(`${log}.mute`)) return tapped('dropped')(raw, msg);
  tapped('server')(raw, msg);
  process.stdout.write(raw);
}));

// the test's own notifications
setInterval(() => {
  let text;
  try {
    text = readFileSync(`${log}.inject`, 'utf8');
  } catch {
    return;
  }
  rmSync(`${log}.inject`, { force: true });
  const msg = JSON.parse(text);
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }), 'utf8');
  process.stdout.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  note({ dir: 'injected', method: msg.method, ...summary(msg) });
}, 100).unref();
