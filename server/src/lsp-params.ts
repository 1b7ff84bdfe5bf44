/**
 * The params shape of every method the server handles, as zod schemas written from the LSP 3.17
 * types (uinteger = 0..2^31-1, integer, DocumentUri = string, ...) and protocol.ts's own messages.
 * message-gate.ts checks each incoming message against its method's schema before any handler
 * runs, so handlers can trust their params' types. Objects are loose: fields the server does not
 * read are allowed and never walked. Nesting depth is bounded separately (`nestingExceeds`).
 */
import { z } from 'zod';

/** Deepest nesting (objects and arrays) any message may have. */
export const MAX_DEPTH = 64;

const UINT_MAX = 2 ** 31 - 1;
const uinteger = z
  .int({ error: 'expected an integer 0..2147483647 (LSP uinteger)' })
  .min(0, { error: 'expected an integer 0..2147483647 (LSP uinteger), got a negative one' })
  .max(UINT_MAX, { error: 'expected an integer 0..2147483647 (LSP uinteger), got a larger one' });
const integer = z
  .int({ error: 'expected an integer -2^31..2^31-1 (LSP integer)' })
  .min(-(2 ** 31), { error: 'expected an integer -2^31..2^31-1 (LSP integer)' })
  .max(UINT_MAX, { error: 'expected an integer -2^31..2^31-1 (LSP integer)' });
const str = z.string({ error: 'expected a string' });
const uri = z.string({ error: 'expected a string (DocumentUri)' });
const obj = <T extends z.core.$ZodLooseShape>(shape: T) => z.looseObject(shape, { error: 'expected an object' });
/** Params a method without params may carry: none, null, or an object (ignored). */
const noParams = z.union([z.undefined(), z.null(), obj({})], { error: 'expected no params, null or an object' });

const position = obj({ line: uinteger, character: uinteger });
const range = obj({ start: position, end: position });
const command = obj({ title: str, command: str, arguments: z.array(z.unknown()).optional() });
const progressToken = z.union([integer, str]);

const textDocumentItem = obj({ uri, languageId: str, version: integer, text: str });
const versionedIdentifier = obj({ uri, version: integer });
const identifier = obj({ uri });
/** TextDocumentContentChangeEvent: with a range (incremental) or without (the whole text). */
const contentChange = obj({ range: range.optional(), rangeLength: uinteger.optional(), text: str });

const inlineCompletionItem = obj({
  insertText: z.union([str, obj({ kind: z.literal('snippet'), value: str })], { error: 'expected a string or a StringValue' }),
  filterText: str.optional(),
  range: range.optional(),
  command: command.optional(),
});

const clientCapabilities = obj({
  general: obj({ positionEncodings: z.array(str).optional() }).optional(),
  workspace: obj({
    configuration: z.boolean().optional(),
    didChangeConfiguration: obj({ dynamicRegistration: z.boolean().optional() }).optional(),
  }).optional(),
});

// LSP's TraceValues, and vscode-jsonrpc's "compact", which vscode-languageclient may send
const traceValue = z.enum(['off', 'messages', 'compact', 'verbose'], { error: 'expected "off", "messages", "compact" or "verbose"' });

/** Params schema per method. A method without an entry is passed on unchecked (but depth-bounded). */
export const PARAMS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  [
    'initialize',
    obj({
      processId: integer.nullable(),
      // rootUri and rootPath are required by LSP but deprecated; the server does not read them
      rootUri: uri.nullable().optional(),
      rootPath: str.nullable().optional(),
      capabilities: clientCapabilities,
      initializationOptions: z.unknown().optional(),
      trace: traceValue.optional(),
      clientInfo: obj({ name: str, version: str.optional() }).optional(),
      workspaceFolders: z.array(obj({ uri, name: str })).nullable().optional(),
    }),
  ],
  ['initialized', noParams],
  ['shutdown', z.union([z.undefined(), z.null()], { error: 'expected no params' })],
  ['exit', z.union([z.undefined(), z.null()], { error: 'expected no params' })],
  ['$/cancelRequest', obj({ id: z.union([integer, str], { error: 'expected an integer or a string' }) })],
  ['$/setTrace', obj({ value: traceValue })],
  ['textDocument/didOpen', obj({ textDocument: textDocumentItem })],
  ['textDocument/didChange', obj({ textDocument: versionedIdentifier, contentChanges: z.array(contentChange) })],
  ['textDocument/didClose', obj({ textDocument: identifier })],
  ['workspace/didChangeConfiguration', obj({ settings: z.unknown() })],
  ['workspace/executeCommand', obj({ command: str, arguments: z.array(z.unknown()).optional(), workDoneToken: progressToken.optional() })],
  [
    'textDocument/inlineCompletion',
    obj({
      textDocument: obj({ uri, version: integer.optional() }),
      position,
      context: obj({
        triggerKind: z.union([z.literal(1), z.literal(2)], { error: 'expected 1 (Invoked) or 2 (Automatic)' }),
        selectedCompletionInfo: obj({ range, text: str }).optional(),
      }),
      formattingOptions: obj({ tabSize: uinteger.optional(), insertSpaces: z.boolean().optional() }).optional(),
      workDoneToken: progressToken.optional(),
    }),
  ],
  [
    'textDocument/completion',
    obj({
      textDocument: identifier,
      position,
      context: obj({
        triggerKind: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'expected 1 (Invoked), 2 (TriggerCharacter) or 3 (TriggerForIncompleteCompletions)' }),
        triggerCharacter: str.optional(),
      }).optional(),
      workDoneToken: progressToken.optional(),
      partialResultToken: progressToken.optional(),
    }),
  ],
  ['textDocument/didShowCompletion', obj({ item: inlineCompletionItem })],
  ['textDocument/didPartiallyAcceptCompletion', obj({ item: inlineCompletionItem, acceptedLength: uinteger })],
  ['slipstream/status', noParams],
  [
    'slipstream/traces',
    z.union(
      [
        z.undefined(),
        z.null(),
        obj({
          after: z.number({ error: 'expected a number' }).optional(),
          limit: uinteger.optional(),
          uri: str.optional(),
          since: z.number({ error: 'expected a number (ms since the epoch)' }).optional(),
        }),
      ],
      { error: 'expected no params, null or {after?, limit?, uri?, since?}' },
    ),
  ],
  [
    'slipstream/complete',
    obj({
      text: str,
      offset: uinteger,
      languageId: str.optional(),
      uri: str.optional(),
      maxTokens: z.int({ error: 'expected an integer 1..1024' }).min(1, { error: 'expected an integer 1..1024' }).max(1024, { error: 'expected an integer 1..1024' }).optional(),
      alternatives: z.int({ error: 'expected an integer 1..5' }).min(1, { error: 'expected an integer 1..5' }).max(5, { error: 'expected an integer 1..5' }).optional(),
    }).refine((p) => p.offset <= p.text.length, { error: 'offset is past the end of text (UTF-16 code units)', path: ['offset'] }),
  ],
  ['slipstream/debug/document', obj({ uri })],
]);

/** The first problem with `params` for `method`, as "path: what was expected"; null when valid. */
export function paramsProblem(method: string, params: unknown): string | null {
  const schema = PARAMS.get(method);
  if (!schema) return null;
  const r = schema.safeParse(params);
  if (r.success) return null;
  const issue = r.error.issues[0]!;
  const path = issue.path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : `${s}.${String(k)}`), 'params');
  return `${path}: ${issue.message}`;
}

/** True when `value` nests objects or arrays deeper than `limit` (iterative: any depth is safe). */
export function nestingExceeds(value: unknown, limit: number = MAX_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
