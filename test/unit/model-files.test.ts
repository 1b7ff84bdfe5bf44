/**
 * Reading a model folder's JSON files from TypeScript (native/lib/model-files.ts, used by
 * Tokenizer.load and Model.load): a FIFO in place of tokenizer.json, tokenizer_config.json,
 * generation_config.json or config.json is refused without waiting for a writer (readFileSync once
 * blocked the event loop on it forever); files over their cap are refused from their size; an
 * empty vocabulary is refused; no message shows the file's text (a tokenizer.json symlinked to a
 * secret once leaked its first characters through the JSON error, and the tokenizer library's
 * messages quote values such as an unknown pre-tokenizer type).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeByteLevelTokenizer } from '../../bench/lib/byte-level-tokenizer.js';
import { EngineError } from '../../native/lib/errors.js';
import { MODEL_FILE_CAPS, messageWithoutFileText, readModelJson, valueForMessage } from '../../native/lib/model-files.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';

const root = mkdtempSync(join(tmpdir(), 'model-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A byte-level tokenizer folder (tokenizer.json, tokenizer_config.json) that loads. */
function folder(): string {
  const dir = join(root, `f${n++}`);
  writeByteLevelTokenizer(dir);
  return dir;
}

function fifo(path: string): void {
  rmSync(path, { force: true });
  execFileSync('mkfifo', [path]);
}

/** The EngineError a load rejects with (fails the test when it resolves). */
async function loadError(dir: string): Promise<EngineError> {
  const err = await Tokenizer.load(dir).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}

// V8's JSON.parse error quotes the start of this one ("Unexpected token 'a', "aws_secret"... is not valid JSON")
const SECRET = 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n';
const WORD = 'AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG';

/** True when any 6-character run of secret appears in message. */
function leaks(message: string, secret: string): boolean {
  for (let i = 0; i + 6 <= secret.length; i++) if (message.includes(secret.slice(i, i + 6))) return true;
  return false;
}

describe('model folder files in TypeScript', () => {
  it('loads the good folder', async () => {
    expect((await Tokenizer.load(folder())).vocabSize).toBeGreaterThan(256);
  });

  for (const name of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'config.json']) {
    it(`refuses a FIFO as ${name} at once, and a directory`, async () => {
      const dir = folder();
      fifo(join(dir, name));
      const started = Date.now();
      const err = await loadError(dir);
      expect(err.code).toBe('ENGINE_BAD_MODEL');
      expect(err.message).toBe(`${join(dir, name)}: is a FIFO, not a regular file`);
      expect(Date.now() - started).toBeLessThan(5000);
      rmSync(join(dir, name));
      mkdirSync(join(dir, name));
      expect((await loadError(dir)).message).toBe(`${join(dir, name)}: is a directory, not a regular file`);
    });
  }

  it('refuses files over their caps from their size (sparse files: nothing is read)', async () => {
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'config.json'] as const) {
      const dir = folder();
      const fd = openSync(join(dir, name), 'w');
      ftruncateSync(fd, MODEL_FILE_CAPS[name] + 1);
      closeSync(fd);
      const err = await loadError(dir);
      expect(err.message).toBe(`${join(dir, name)}: is ${MODEL_FILE_CAPS[name] + 1} bytes, more than the ${MODEL_FILE_CAPS[name]}-byte limit for this file`);
    }
    // at the cap exactly, the file is read (and then judged as JSON)
    const dir = folder();
    writeFileSync(join(dir, 'config.json'), `{}${' '.repeat(MODEL_FILE_CAPS['config.json'] - 2)}`);
    expect(await readModelJson(join(dir, 'config.json'), 'config.json', true)).toEqual({});
  });

  it('refuses an empty vocabulary', async () => {
    const dir = folder();
    const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    tj.model.vocab = {};
    tj.model.merges = [];
    tj.added_tokens = [];
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
    const err = await loadError(dir);
    expect(err.message).toBe(`${join(dir, 'tokenizer.json')}: the vocabulary is empty (no model.vocab entries and no added_tokens)`);
  });

  it('never shows a file’s text: secret files behind symlinks, values the tokenizer library quotes', async () => {
    const secretPath = join(root, 'secret.txt');
    writeFileSync(secretPath, SECRET);
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'config.json']) {
      const dir = folder();
      rmSync(join(dir, name), { force: true });
      symlinkSync(secretPath, join(dir, name));
      const err = await loadError(dir);
      expect(err.message).toMatch(new RegExp(`^${join(dir, name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid JSON`));
      expect(leaks(err.message, SECRET)).toBe(false);
    }
    // valid JSON with the secret where the library or the loader reads a name
    const edits: ((tj: Record<string, any>, cfg: Record<string, any>) => void)[] = [
      (tj) => { tj.pre_tokenizer = { type: WORD }; },
      (tj) => { tj.decoder = { type: WORD }; },
      (tj) => { tj.normalizer = { type: 'Replace', pattern: { Regex: `(${WORD}` }, content: '' }; },
      (_tj, cfg) => { cfg.fim_order = WORD; },
    ];
    for (const edit of edits) {
      const dir = folder();
      const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
      edit(tj, cfg);
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
      const err = await loadError(dir);
      expect(err.code).toBe('ENGINE_BAD_MODEL');
      expect(leaks(err.message, WORD)).toBe(false);
    }
  });

  it('shows identifiers, numbers and booleans from a file, and nothing else', () => {
    expect(valueForMessage('ByteLevel')).toBe('"ByteLevel"');
    expect(valueForMessage(7)).toBe('7');
    expect(valueForMessage(WORD)).toBe(`(a ${WORD.length}-byte string, not shown)`);
    expect(valueForMessage({ a: 1 })).toBe('(an object, not shown)');
    expect(messageWithoutFileText(new Error(`Unknown PreTokenizer type: ${WORD}`))).toBe('Unknown PreTokenizer type');
    expect(messageWithoutFileText(new Error('Tokenizer must contain a "model" property'))).toBe('Tokenizer must contain a "model" property');
    expect(messageWithoutFileText(new Error(`no "${WORD}" here`))).toBe('no (a value, not shown) here');
  });

  it('reads through a symlink to a regular file, and resolves undefined for an absent optional file', async () => {
    const target = join(root, 'real.json');
    writeFileSync(target, '{"eos_token_id": 2}');
    const link = join(root, 'link.json');
    symlinkSync(target, link);
    expect(await readModelJson(link, 'generation_config.json', false)).toEqual({ eos_token_id: 2 });
    unlinkSync(link);
    expect(await readModelJson(link, 'generation_config.json', false)).toBeUndefined();
    await expect(readModelJson(link, 'generation_config.json', true)).rejects.toMatchObject({ code: 'ENGINE_BAD_MODEL', message: `${link}: file not found` });
  });
});
