/**
 * `npm start`: drives a real `slipstream serve --stdio` like an editor would. It opens a file
 * from fixtures/workspace, types it a character at a time (requests at token boundaries, within
 * a time budget), shows each suggestion and its latency, accepts suggestions that match what
 * comes next (Tab, or word by word), and ends with a summary. Writes to stdout: it is a CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver/node';
import type { InlineCompletionList } from 'vscode-languageserver';
import type { StatusResult } from '../protocol.js';
import { ACCEPT_COMMAND } from '../protocol.js';
import { acceptance, percentile, requestPoints, thin } from './plan.js';
import { formatMs, makeStyle, rule, suggestionLine, type Style } from './render.js';

export interface DemoOptions {
  modelDir: string;
  drafterDir?: string;
  argv: string[];
}

const USAGE = 'usage: npm start -- [--file PATH] [--seconds N] [--max-tokens N] [--no-color]';

function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'slipstream') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('slipstream package.json not found');
    dir = up;
  }
}

interface Args {
  file: string;
  seconds: number;
  maxTokens: number;
  color: boolean;
}

function parseDemoArgs(argv: string[], root: string): Args | string {
  const a: Args = {
    file: join(root, 'fixtures', 'workspace', 'src', 'lru-cache.ts'),
    seconds: 15,
    maxTokens: 24,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--file') a.file = resolve(value());
    else if (flag === '--seconds') a.seconds = Number(value());
    else if (flag === '--max-tokens') a.maxTokens = Number(value());
    else if (flag === '--no-color') a.color = false;
    else if (flag === '--help') return USAGE;
    else throw new Error(`unknown flag ${flag} (${USAGE})`);
  }
  if (!(a.seconds > 0) || !Number.isInteger(a.maxTokens) || a.maxTokens < 1) throw new Error(`bad --seconds or --max-tokens (${USAGE})`);
  if (!existsSync(a.file)) throw new Error(`no such file: ${a.file}`);
  return a;
}

const LANGUAGES: Record<string, string> = { ts: 'typescript', js: 'javascript', py: 'python', rs: 'rust', go: 'go', c: 'c', cpp: 'cpp', md: 'markdown', txt: 'plaintext' };

export async function runDemo(options: DemoOptions): Promise<number> {
  const root = repoRoot();
  let args: Args;
  try {
    const parsed = parseDemoArgs(options.argv, root);
    if (typeof parsed === 'string') {
      process.stdout.write(`${parsed}\n`);
      return 0;
    }
    args = parsed;
  } catch (err) {
    process.stderr.write(`slipstream demo: ${(err as Error).message}\n`);
    return 2;
  }
  const style = makeStyle(args.color);
  const columns = process.stdout.columns || 100;
  const out = (s = ''): void => void process.stdout.write(`${s}\n`);

  const serverArgs = [join(root, 'bin', 'slipstream.js'), 'serve', '--stdio', '--model', options.modelDir];
  if (options.drafterDir) serverArgs.push('--drafter', options.drafterDir);
  const child = spawn(process.execPath, serverArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  const failed = exited.then((code) => {
    throw new Error(`the server exited early (code ${code}):\n${stderr.trim().split('\n').slice(-8).join('\n')}`);
  });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
  conn.onNotification('window/logMessage', () => {});
  conn.onNotification('window/showMessage', (m: { message: string }) => out(style.red(`server: ${m.message}`)));
  conn.listen();
  try {
    return await Promise.race([drive(conn, args, options, style, columns, out), failed]);
  } catch (err) {
    process.stderr.write(`slipstream demo: ${(err as Error).message}\n`);
    child.kill();
    return 1;
  } finally {
    if (child.exitCode === null) {
      try {
        await Promise.race([conn.sendRequest('shutdown'), exited]);
        await conn.sendNotification('exit');
      } catch {
        child.kill();
      }
      await exited.catch(() => 1);
    }
    conn.dispose();
  }
}

async function drive(conn: ProtocolConnection, args: Args, options: DemoOptions, style: Style, columns: number, out: (s?: string) => void): Promise<number> {
  const target = readFileSync(args.file, 'utf8');
  const uri = pathToFileURL(args.file).href;
  const ext = args.file.slice(args.file.lastIndexOf('.') + 1);
  const languageId = LANGUAGES[ext] ?? 'plaintext';

  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: { general: { positionEncodings: ['utf-16'] } },
    initializationOptions: { completion: { debounceMs: 0, maxTokens: args.maxTokens } },
  });
  await conn.sendNotification('initialized', {});

  out(style.bold('Slipstream') + style.dim(' · inline completions from a local engine, driven like an editor'));
  out(rule(style, columns));
  const loadStart = performance.now();
  await conn.sendRequest('slipstream/complete', { text: '', offset: 0, maxTokens: 1, uri: 'demo:warmup' });
  const loadMs = performance.now() - loadStart;
  const status = (await conn.sendRequest('slipstream/status')) as StatusResult;
  const m = status.engine.model;
  if (status.engine.state !== 'ready' || !m) throw new Error(`the engine did not load the model: ${status.engine.error?.message ?? status.engine.state}`);
  const cpu = status.engine.backends.filter((b) => b.available).map((b) => b.name).join(', ');
  out(`  model    ${style.cyan(basename(m.dir))} ${style.dim(`(${m.architecture}, ${m.numLayers} layers, hidden ${m.hiddenSize}, vocab ${m.vocabSize}${m.fim ? ', fill-in-the-middle' : ', prefix only'})`)}`);
  if (options.drafterDir) out(`  drafter  ${style.cyan(basename(options.drafterDir))} ${style.dim(`(mode ${status.engine.mode})`)}`);
  out(`  engine   ${style.cyan(cpu || 'none')} ${style.dim(`backends available · first request with model load ${formatMs(loadMs)}`)}`);
  out(`  typing   ${style.cyan(args.file.replace(`${process.cwd()}/`, ''))} ${style.dim(`(${target.length} chars, ~${args.seconds} s)`)}`);
  if (!m.fim) out(style.yellow(`  note     ${basename(m.dir)} is a story model, not a code model: its suggestions are prose.`));
  out(rule(style, columns));

  // Other files of the workspace, open like editor tabs (snippet context).
  const companion = join(dirname(args.file), 'stats.ts');
  if (companion !== args.file && existsSync(companion)) {
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: pathToFileURL(companion).href, languageId, version: 1, text: readFileSync(companion, 'utf8') } });
  }
  let version = 1;
  let doc = '';
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text: '' } });
  const position = (offset: number): { line: number; character: number } => {
    const before = doc.slice(0, offset);
    const line = before.split('\n').length - 1;
    return { line, character: offset - (before.lastIndexOf('\n') + 1) };
  };
  const insert = async (text: string): Promise<void> => {
    const at = position(doc.length);
    doc += text;
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ range: { start: at, end: at }, text }] });
  };

  const latencies: number[] = [];
  let shown = 0;
  let full = 0;
  let partial = 0;
  let acceptedChars = 0;
  const started = performance.now();
  const budgetMs = args.seconds * 1000;
  let points = requestPoints(target);
  let pi = 0;
  while (doc.length < target.length) {
    while (pi < points.length && points[pi]! <= doc.length) pi++;
    const elapsed = performance.now() - started;
    if (pi >= points.length || elapsed > budgetMs) {
      for (const ch of target.slice(doc.length)) await insert(ch);
      break;
    }
    // Re-plan every few requests so the whole file fits the time budget.
    if (latencies.length > 0 && latencies.length % 8 === 0) {
      const avg = latencies.reduce((a, b) => a + b, 0) / latencies.length + 1;
      const rest = points.slice(pi);
      points = [...points.slice(0, pi), ...thin(rest, Math.max(1, Math.floor((budgetMs - elapsed) / avg)))];
    }
    const at = points[pi]!;
    // Type up to the request point, one character per change, as an editor sends them.
    for (const ch of target.slice(doc.length, at)) await insert(ch);
    const pos = position(doc.length);
    const t0 = performance.now();
    const list = (await conn.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri, version },
      position: pos,
      context: { triggerKind: 2 },
      formattingOptions: { tabSize: 2, insertSpaces: true },
    })) as InlineCompletionList | null;
    const ms = performance.now() - t0;
    latencies.push(ms);
    const item = list?.items[0];
    const suggestion = typeof item?.insertText === 'string' ? item.insertText : '';
    const verdict = acceptance(suggestion, target.slice(doc.length));
    const typed = doc.slice(doc.lastIndexOf('\n') + 1);
    if (item && suggestion) {
      shown++;
      await conn.sendNotification('textDocument/didShowCompletion', { item });
      if (verdict.kind === 'full') {
        full++;
        await conn.sendRequest('workspace/executeCommand', { command: ACCEPT_COMMAND, arguments: item.command?.arguments ?? [] });
      } else if (verdict.kind === 'partial') {
        partial++;
        await conn.sendNotification('textDocument/didPartiallyAcceptCompletion', { item, acceptedLength: verdict.length });
      }
      if (verdict.kind !== 'none') {
        acceptedChars += verdict.length;
        await insert(suggestion.slice(0, verdict.length));
      }
    }
    out(suggestionLine(style, { ms, line: pos.line, typed, suggestion, verdict: suggestion ? verdict.kind : 'empty', acceptedLength: verdict.kind === 'none' ? 0 : verdict.length }, columns));
  }
  const wall = performance.now() - started;

  const final = (await conn.sendRequest('slipstream/status')) as StatusResult;
  out(rule(style, columns));
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  out(style.bold('Summary'));
  out(`  requests      ${latencies.length} in ${(wall / 1000).toFixed(1)} s, ${shown} with a suggestion`);
  out(`  latency       p50 ${style.cyan(formatMs(p50))}  p95 ${style.cyan(formatMs(p95))}  ${style.dim('(editor round trip)')}`);
  out(`  server        p50 ${formatMs(final.latency.p50Ms)}  p95 ${formatMs(final.latency.p95Ms)}  ${style.dim(`(typing-through cache hits ${final.cache.hits})`)}`);
  out(`  accepted      ${style.green(String(full))} whole, ${style.yellow(String(partial))} in part: ${acceptedChars} of ${target.length} chars written by the model (${((100 * acceptedChars) / Math.max(1, target.length)).toFixed(1)} %)`);
  out(`  document      ${doc === target ? style.green('typed out exactly') : style.red('differs from the file')}`);
  return doc === target ? 0 : 1;
}
