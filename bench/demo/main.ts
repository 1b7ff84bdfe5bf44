/**
 * `npm start`: drives a real `slipstream serve --stdio` like an editor would. It opens a file
 * from fixtures/workspace, types it a character at a time (requests at token boundaries, within
 * a time budget), shows each suggestion and its latency, accepts suggestions that match what
 * comes next (Tab, or word by word), and ends with a summary. Writes to stdout: it is a CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../server/src/package-root.js';
import { percentile } from '../../server/src/percentile.js';
import { ACCEPT_COMMAND } from '../../server/src/protocol.js';
import { LspClient, positionOf } from '../lib/lsp-client.js';
import { acceptance, requestPoints, thin } from './plan.js';
import { formatMs, makeStyle, rule, suggestionLine, type Style } from './render.js';

export interface DemoOptions {
  modelDir: string;
  drafterDir?: string;
  argv: string[];
}

const USAGE = 'usage: npm start -- [--file PATH] [--seconds N] [--max-tokens N] [--no-color]';

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
  const root = packageRoot();
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

  const serverArgs = ['--model', options.modelDir, ...(options.drafterDir ? ['--drafter', options.drafterDir] : [])];
  const client = new LspClient(serverArgs, { onShowMessage: (m) => out(style.red(`server: ${m}`)) });
  try {
    return await drive(client, args, options, style, columns, out);
  } catch (err) {
    process.stderr.write(`slipstream demo: ${(err as Error).message}\n`);
    client.server.kill();
    return 1;
  } finally {
    await client.close();
  }
}

async function drive(client: LspClient, args: Args, options: DemoOptions, style: Style, columns: number, out: (s?: string) => void): Promise<number> {
  const target = readFileSync(args.file, 'utf8');
  const uri = pathToFileURL(args.file).href;
  const ext = args.file.slice(args.file.lastIndexOf('.') + 1);
  const languageId = LANGUAGES[ext] ?? 'plaintext';

  await client.initialize({ completion: { debounceMs: 0, maxTokens: args.maxTokens } });

  out(style.bold('Slipstream') + style.dim(' · inline completions from a local engine, driven like an editor'));
  out(rule(style, columns));
  const loadStart = performance.now();
  await client.request('slipstream/complete', { text: '', offset: 0, maxTokens: 1, uri: 'demo:warmup' });
  const loadMs = performance.now() - loadStart;
  const status = await client.status();
  const m = status.engine.model;
  if (status.engine.state !== 'ready' || !m) throw new Error(`the engine did not load the model: ${status.engine.error?.message ?? status.engine.state}`);
  const cpu = status.engine.backends.filter((b) => b.available).map((b) => b.name).join(', ');
  out(`  model    ${style.cyan(basename(m.dir))} ${style.dim(`(${m.architecture}, ${m.numLayers} layers, hidden ${m.hiddenSize}, vocab ${m.vocabSize}${m.fim ? ', fill-in-the-middle' : ', prefix only'})`)}`);
  if (options.drafterDir) out(`  drafter  ${style.cyan(basename(options.drafterDir))} ${style.dim(`(mode ${status.engine.mode}; ${status.engine.modeDecision?.reason ?? ''})`)}`);
  out(`  engine   ${style.cyan(cpu || 'none')} ${style.dim(`backends available · first request with model load ${formatMs(loadMs)}`)}`);
  out(`  typing   ${style.cyan(args.file.replace(`${process.cwd()}/`, ''))} ${style.dim(`(${target.length} chars, ~${args.seconds} s)`)}`);
  if (!m.fim) out(style.yellow(`  note     ${basename(m.dir)} is a story model, not a code model: its suggestions are prose.`));
  out(rule(style, columns));

  // Other files of the workspace, open like editor tabs (snippet context).
  const companion = join(dirname(args.file), 'stats.ts');
  if (companion !== args.file && existsSync(companion)) {
    await client.notify('textDocument/didOpen', { textDocument: { uri: pathToFileURL(companion).href, languageId, version: 1, text: readFileSync(companion, 'utf8') } });
  }
  // The typed document: starts empty, grows at its end one change at a time.
  await client.open(uri, languageId, '');
  const insert = (text: string): Promise<void> => client.edit(client.text.length, client.text.length, text);

  const latencies: number[] = [];
  let shown = 0;
  let full = 0;
  let partial = 0;
  let acceptedChars = 0;
  const started = performance.now();
  const budgetMs = args.seconds * 1000;
  let points = requestPoints(target);
  let pi = 0;
  while (client.text.length < target.length) {
    while (pi < points.length && points[pi]! <= client.text.length) pi++;
    const elapsed = performance.now() - started;
    if (pi >= points.length || elapsed > budgetMs) {
      for (const ch of target.slice(client.text.length)) await insert(ch);
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
    for (const ch of target.slice(client.text.length, at)) await insert(ch);
    const pos = positionOf(client.text, client.text.length);
    const t0 = performance.now();
    const list = await client.inlineCompletion(client.text.length);
    const ms = performance.now() - t0;
    latencies.push(ms);
    const item = list?.items[0];
    const suggestion = typeof item?.insertText === 'string' ? item.insertText : '';
    const verdict = acceptance(suggestion, target.slice(client.text.length));
    const typed = client.text.slice(client.text.lastIndexOf('\n') + 1);
    if (item && suggestion) {
      shown++;
      await client.notify('textDocument/didShowCompletion', { item });
      if (verdict.kind === 'full') {
        full++;
        await client.request('workspace/executeCommand', { command: ACCEPT_COMMAND, arguments: item.command?.arguments ?? [] });
      } else if (verdict.kind === 'partial') {
        partial++;
        await client.notify('textDocument/didPartiallyAcceptCompletion', { item, acceptedLength: verdict.length });
      }
      if (verdict.kind !== 'none') {
        acceptedChars += verdict.length;
        await insert(suggestion.slice(0, verdict.length));
      }
    }
    out(suggestionLine(style, { ms, line: pos.line, typed, suggestion, verdict: suggestion ? verdict.kind : 'empty', acceptedLength: verdict.kind === 'none' ? 0 : verdict.length }, columns));
  }
  const wall = performance.now() - started;

  const final = await client.status();
  out(rule(style, columns));
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  out(style.bold('Summary'));
  out(`  requests      ${latencies.length} in ${(wall / 1000).toFixed(1)} s, ${shown} with a suggestion`);
  out(`  latency       p50 ${style.cyan(formatMs(p50))}  p95 ${style.cyan(formatMs(p95))}  ${style.dim('(editor round trip)')}`);
  out(`  server        p50 ${formatMs(final.latency.p50Ms)}  p95 ${formatMs(final.latency.p95Ms)}  ${style.dim(`(typing-through cache hits ${final.cache.hits})`)}`);
  out(`  accepted      ${style.green(String(full))} whole, ${style.yellow(String(partial))} in part: ${acceptedChars} of ${target.length} chars written by the model (${((100 * acceptedChars) / Math.max(1, target.length)).toFixed(1)} %)`);
  out(`  document      ${client.text === target ? style.green('typed out exactly') : style.red('differs from the file')}`);
  return client.text === target ? 0 : 1;
}
