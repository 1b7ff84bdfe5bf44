/**
 * The shape of every `slipstream` subcommand: names, flags and help. Scripts and docs rely on
 * these; change them only together with docs/cli.md.
 */
import type { CommandSpec } from './args.js';
import { weightsFlag } from './weights-flag.js';

const model = { kind: 'string', value: 'DIR', description: 'Hugging Face model folder (config.json, *.safetensors, tokenizer.json)' } as const;
const drafter = { kind: 'string', value: 'DIR', description: 'ReDrafter head folder for the model' } as const;
const help = { kind: 'boolean', description: 'show this help' } as const;

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Run the language server over stdio (the default), as a shared daemon on a loopback TCP port (token required), or as a stdio bridge to that daemon.',
  usage:
    'slipstream serve [--stdio [--connect] | --port N [--host 127.0.0.1 [--allow-remote]]] [--state-dir DIR] [--config FILE] [--model DIR] [--drafter DIR] [--mode auto|ar|redrafter] [--weights bf16|q8_0|q4_0] [--max-documents N] [--max-document-mib MIB]',
  flags: {
    stdio: { kind: 'boolean', description: 'speak JSON-RPC over stdin/stdout (default)' },
    connect: { kind: 'boolean', description: 'with --stdio: bridge stdin/stdout to the shared daemon (started on demand, detached), adding the token to initialize' },
    port: { kind: 'int', value: 'N', min: 0, max: 65535, description: 'run the shared daemon on this TCP port (0: any free port); clients send the token (slipstream token) as initializationOptions.token' },
    host: { kind: 'string', value: 'HOST', default: '127.0.0.1', description: 'address to bind with --port (a non-loopback address needs --allow-remote)' },
    'allow-remote': { kind: 'boolean', description: 'allow --host to be an address other machines can reach (a warning is printed)' },
    'state-dir': { kind: 'string', value: 'DIR', description: 'where the token, daemon.json, daemon.log and client trace files live (default $SLIPSTREAM_STATE_DIR, $XDG_STATE_HOME/slipstream or ~/.local/state/slipstream)' },
    config: { kind: 'string', value: 'FILE', description: "the daemon's settings as JSON (same names as the client settings); engine settings of a shared daemon come only from here and the flags" },
    'max-connections': { kind: 'int', value: 'N', min: 1, max: 100000, description: `with --port: connections open at most (default 64)` },
    'max-per-address': { kind: 'int', value: 'N', min: 1, max: 100000, description: 'with --port: connections open at most from one address (default 32)' },
    'handshake-timeout-ms': { kind: 'int', value: 'MS', min: 100, max: 600000, description: 'with --port: a connection without a valid initialize after MS ms is closed (default 10000)' },
    'write-stall-ms': { kind: 'int', value: 'MS', min: 100, max: 3600000, description: 'with --port: a client whose unread replies keep its input paused for MS ms is disconnected (default 30000)' },
    'max-documents': { kind: 'int', value: 'N', min: 1, max: 1000000, description: 'open documents one client (one connection) may hold at most; past it a document gets no completions (default 1000)' },
    'max-document-mib': { kind: 'int', value: 'MIB', min: 1, max: 65536, description: 'MiB of open documents one client (one connection) may hold at most, text counted at 2 bytes per UTF-16 unit (default 256)' },
    'insecure-no-token': { kind: 'boolean', description: 'with --port: accept connections without a token (testing only: any local process could use the server)' },
    model: { ...model, description: 'Hugging Face model folder (default: the shipped model in fixtures/models/slipstream-code)' },
    drafter: { ...drafter, description: 'ReDrafter head folder for the model (default: the shipped drafter with the shipped model, else none)' },
    mode: { kind: 'string', value: 'MODE', description: "engine.mode: 'auto' (ReDrafter when a calibration at load shows it pays), 'ar' or 'redrafter' (default auto)" },
    weights: weightsFlag,
    clientProcessId: { kind: 'int', value: 'PID', min: 1, description: "the editor's process id (vscode-languageclient passes it): stdio serving ends when that process is gone" },
    help,
  },
};

export const generateCommand: CommandSpec = {
  name: 'generate',
  summary: 'Generate tokens from a prompt with the engine, plain (ar) or with ReDrafter.',
  usage:
    'slipstream generate [--model DIR] [--drafter DIR] (--prompt TEXT | --prompt-ids 1,2,3) [--max-tokens N] ' +
    '[--mode ar|redrafter] [--lookup K] [--temperature T] [--seed S] [--weights bf16|q8_0|q4_0] [--json]',
  flags: {
    model,
    drafter,
    prompt: { kind: 'string', value: 'TEXT', description: "prompt text, tokenized with the model's tokenizer" },
    'prompt-ids': { kind: 'ids', value: 'IDS', description: 'prompt as comma-separated token ids, used exactly as given' },
    'max-tokens': { kind: 'int', value: 'N', min: 1, default: 64, description: 'tokens to generate at most' },
    mode: { kind: 'string', value: 'MODE', default: 'ar', description: "'ar' (plain decoding) or 'redrafter'" },
    beams: { kind: 'int', value: 'M', min: 1, max: 64, description: 'ReDrafter beam width (with --mode redrafter)' },
    'beam-length': { kind: 'int', value: 'L', min: 2, max: 16, description: 'ReDrafter beam length, counting the guaranteed token (with --mode redrafter)' },
    lookup: { kind: 'int', value: 'K', min: 1, max: 63, description: 'prompt lookup: verify up to K tokens that followed the last 2-4 tokens earlier in the prompt and output, each step (docs/engine.md, "Lookup drafts")' },
    temperature: { kind: 'number', value: 'T', min: 0, default: 0, description: '0 for greedy' },
    'top-k': { kind: 'int', value: 'K', min: 0, description: 'sample among the K most likely tokens (0: all)' },
    'top-p': { kind: 'number', value: 'P', min: 0, max: 1, description: 'nucleus sampling mass' },
    seed: { kind: 'int', value: 'S', min: 0, default: 0, description: 'random seed for sampling' },
    threads: { kind: 'int', value: 'N', min: 1, max: 256, description: 'CPU threads' },
    weights: weightsFlag,
    json: { kind: 'boolean', description: 'print one JSON object {ids, text, stats}' },
    help,
  },
};

export const infoCommand: CommandSpec = {
  name: 'info',
  summary: 'Describe a model folder (architecture, shapes, dtype, size, tokenizer) and the backends.',
  usage: 'slipstream info [--model DIR] [--drafter DIR] [--weights bf16|q8_0|q4_0] [--json]',
  flags: { model, drafter, weights: weightsFlag, json: { kind: 'boolean', description: 'print JSON' }, help },
};

export const benchCommand: CommandSpec = {
  name: 'bench',
  summary:
    'Run a benchmark: engine (load, prefill, decode, forward cost curve), steps (a decode step as generate()\'s consumer sees it, run ahead or not), startup (a fresh server, first start and later start: to initialize answered, to the first suggestion), redrafter (plain vs ReDrafter), lookup (lookup drafts on the server\'s prompts, with and without a drafter), keystrokes (typing against the server), ' +
    'prefetch (whole suggestions accepted, cache.prefetch on and off), alternatives (invoked completions with their alternatives), ' +
    "tracing (the tracing code's own cost), fuzz (structure-aware fuzzing of the server), soak (clients replaying typing for minutes, memory and latency sampled) " +
    'or quality (held-out code through the server: invoked with token healing on and off, and as typing asks).',
  usage:
    'slipstream bench steps [--model DIR] [--threads N] [--tokens N] [--rounds N] [--work-us US] [--out FILE] | ' +
    'slipstream bench startup [--model DIR] [--rounds N] [--out FILE] | ' +
    'slipstream bench (engine | redrafter | keystrokes | prefetch | alternatives | fuzz | soak) [--model DIR] [--drafter DIR] [--weights bf16|q8_0|q4_0] [--remote URL [--remote-api API]] [--out FILE] [--trace FILE] [--compare-tracing] [--compare-healing] [--compare-lookup] [--psm-typed-lines middle|prefix] | ' +
    'slipstream bench lookup [--model DIR] [--drafter DIR] [--threads N] [--weights W] [--max-tokens N] [--lookup-tokens K] [--cases N] [--seed S] [--rounds R] [--sweep] [--cost-curve FILE] [--out FILE] | ' +
    'slipstream bench quality [--model DIR] [--cases N] [--seed S] [--min-token-probability P] [--out FILE] | ' +
    'slipstream bench tracing --trace FILE [--out FILE]',
  positionals: ['suite'],
  flags: {
    model: { ...model, description: 'Hugging Face model folder (keystrokes: default the shipped model, with its drafter)' },
    drafter,
    out: { kind: 'string', value: 'FILE', description: 'write the JSON result here' },
    threads: { kind: 'int', value: 'N', min: 1, max: 256, description: 'CPU threads' },
    weights: { ...weightsFlag, description: `engine, redrafter, keystrokes, alternatives: ${weightsFlag.description}` },
    beams: { kind: 'int', value: 'M', min: 1, max: 64, description: 'redrafter: beam width (default: the backend default)' },
    'beam-length': { kind: 'int', value: 'L', min: 2, max: 16, description: 'redrafter: beam length, counting the guaranteed token' },
    'min-token-probability': { kind: 'number', value: 'P', min: 0, max: 1, description: 'quality: completion.minTokenProbability of the typing pass (default: the setting\'s default)' },
    'max-tokens': { kind: 'int', value: 'N', min: 1, description: "redrafter: tokens generated per prompt (default 128); keystrokes: completion.maxTokens (default: the server's); quality: completion.maxTokens (default 32); lookup: tokens per prompt (default: completion.maxTokens, 48)" },
    sweep: { kind: 'boolean', description: 'redrafter: also measure a grid of (beams, beam length); lookup: also a grid of lookup params' },
    'cost-curve': { kind: 'string', value: 'FILE', description: "lookup: price each variant's decode steps on this engine-cli forward-curve output (another model's forward costs)" },
    'lookup-tokens': { kind: 'int', value: 'K', min: 1, max: 63, description: 'lookup: draft tokens per round at most (default 4)' },
    tokens: { kind: 'int', value: 'N', min: 2, max: 512, description: 'steps: tokens generated per round (default 64)' },
    rounds: { kind: 'int', value: 'N', min: 1, max: 10000, description: 'steps: rounds, each running every variant once (default 30); startup: rounds of two server starts, an empty and a filled calibration cache (default 8); alternatives: timed rounds over the same spots (default 2); lookup: rounds over every prompt and variant, best per prompt (default 3)' },
    'work-us': { kind: 'int', value: 'US', min: 0, max: 100000, description: "steps: the busy consumer's work per chunk, in microseconds (default 60)" },
    calibrate: { kind: 'boolean', description: "redrafter: first run mode auto's tree-shape calibration, then measure each of its candidate shapes too" },
    context: { kind: 'string', value: 'FILE', description: "redrafter: put this file's text before every prompt (the code above the cursor), its start cut to fit the model's context" },
    file: { kind: 'string', value: 'PATH', description: 'keystrokes: the file to type in (default fixtures/workspace/src/lru-cache.ts)' },
    spots: { kind: 'int', value: 'K', min: 1, max: 10000, description: 'keystrokes: cursor spots, seeded (default 8); soak: spots per document (default 4); prefetch: line ends (default 12); alternatives: line ends (default 18)' },
    chars: { kind: 'int', value: 'N', min: 1, max: 1000, description: 'keystrokes: characters deleted and typed back at each spot, within the line (default 12; soak 8)' },
    seed: { kind: 'int', value: 'S', min: 0, description: 'keystrokes: seed that picks the spots; fuzz: seed of the episodes; quality and lookup: seed of the cases (default 1)' },
    cases: { kind: 'int', value: 'N', min: 2, max: 10000, description: 'quality: cursor cases on the held-out files, half after a line\'s indentation, half mid-line (default 60; lookup: 40)' },
    'interval-ms': { kind: 'int', value: 'MS', min: 0, max: 60000, description: 'keystrokes: a keystroke every MS ms without waiting for answers (0: each waits for its answer)' },
    'debounce-ms': { kind: 'int', value: 'MS', min: 0, max: 5000, description: "keystrokes: the server's completion.debounceMs (default: the server's)" },
    'time-budget-ms': { kind: 'int', value: 'MS', min: 0, max: 60000, description: "keystrokes: the server's completion.timeBudgetMs (default: the server's)" },
    trace: { kind: 'string', value: 'FILE', description: "keystrokes: write the server's traces of the measured requests here as JSON lines (default with --out: OUT's name with .trace.jsonl); tracing: the trace to replay" },
    multi: {
      kind: 'boolean',
      description: 'keystrokes: a multi-document session (three files of fixtures/workspace, switching, accepting) with cache.enabled on (with and without cache.prefetch) and off in the same run; --spots: visits (default 9), --chars (default 24), --debounce-ms (default 0)',
    },
    'compare-tracing': { kind: 'boolean', description: "keystrokes: type every spot twice, with the server's spans on and off in alternating order, and report the difference" },
    'compare-healing': { kind: 'boolean', description: 'keystrokes: type every spot twice, with token healing on and off in alternating order, and report the difference' },
    'compare-lookup': { kind: 'boolean', description: 'keystrokes: type every spot twice, with prompt lookup (engine.promptLookup) at its default and off in alternating order, and report the difference' },
    'psm-typed-lines': { kind: 'string', value: 'WHERE', description: "keystrokes: the server's completion.psmTypedLines, middle or prefix (default: the server's)" },
    record: { kind: 'string', value: 'FILE', description: 'keystrokes: write every message the client sends here, one JSON line each' },
    seconds: { kind: 'int', value: 'N', min: 1, max: 1_000_000, description: 'fuzz: run for N seconds (default 60)' },
    episodes: { kind: 'int', value: 'N', min: 1, description: 'fuzz: run N episodes (one connection each)' },
    'only-episode': { kind: 'int', value: 'I', min: 0, description: 'fuzz: run only episode I of --seed (to reproduce a failure)' },
    concurrency: { kind: 'int', value: 'N', min: 1, max: 64, description: 'fuzz: episodes at once (default 2)' },
    corpus: { kind: 'string', value: 'FILE', description: 'fuzz: recorded traffic to mutate (default fixtures/fuzz/keystrokes.jsonl)' },
    failures: { kind: 'string', value: 'DIR', description: 'fuzz: write the bytes of each failing episode here' },
    minutes: { kind: 'number', value: 'M', min: 0.1, max: 10_000, description: 'soak: minutes the clients type (default 30)' },
    clients: { kind: 'int', value: 'N', min: 1, max: 64, description: 'soak: TCP clients typing at once (default 4)' },
    remote: { kind: 'string', value: 'URL', description: "alternatives: a serving engine's base URL (engine.backend remote; --model gives the tokenizer)" },
    'remote-api': { kind: 'string', value: 'API', description: 'alternatives: engine.remote.api with --remote, openai or llama-server (default llama-server)' },
    'sample-seconds': { kind: 'int', value: 'S', min: 1, max: 3600, description: 'soak: seconds between memory samples (default 60)' },
    help,
  },
};

export const traceCommand: CommandSpec = {
  name: 'trace',
  summary: 'Summarise a trace file (per-stage latency table, slowest requests) and draw it (SVG, HTML) or convert it for Perfetto.',
  usage: 'slipstream trace FILE [--top N] [--json] [--svg OUT] [--html OUT] [--chrome OUT]',
  positionals: ['file'],
  flags: {
    top: { kind: 'int', value: 'N', min: 1, max: 1000, default: 5, description: 'how many of the slowest requests to list' },
    json: { kind: 'boolean', description: 'print the figures as JSON instead of the table' },
    svg: { kind: 'string', value: 'OUT', description: 'write the picture (latency histogram, stage shares, waterfalls of the median and slowest request) as SVG' },
    html: { kind: 'string', value: 'OUT', description: 'write the report (picture and tables) as one HTML page' },
    chrome: { kind: 'string', value: 'OUT', description: 'write Chrome trace-event JSON (opens in Perfetto and chrome://tracing)' },
    help,
  },
};

export const tokenCommand: CommandSpec = {
  name: 'token',
  summary: "Print the shared daemon's token (creating it, mode 0600, in the state directory if needed).",
  usage: 'slipstream token [--state-dir DIR]',
  flags: {
    'state-dir': { kind: 'string', value: 'DIR', description: 'state directory (default $SLIPSTREAM_STATE_DIR, $XDG_STATE_HOME/slipstream or ~/.local/state/slipstream)' },
    help,
  },
};

export const trainDrafterCommand: CommandSpec = {
  name: 'train-drafter',
  summary:
    "Train a ReDrafter head for a model: the engine records the model's own greedy continuations with their hidden states, " +
    'PyTorch trains the head (training/setup.sh installs it), the head is exported with a model card and measured on held-out prompts.',
  usage: 'slipstream train-drafter --model DIR (--out DIR [--budget-minutes N] [--device auto|cpu|cuda] | --evaluate DIR) [--prompts FILE|DIR] [--fim-share X]',
  flags: {
    model: { ...model, description: 'the base model folder the engine loads (config.json, *.safetensors, tokenizer.json)' },
    out: { kind: 'string', value: 'DIR', description: 'where the drafter folder (config.json, model.safetensors, README.md, model-card.json) and work/ (data, checkpoint) go; re-running resumes' },
    'budget-minutes': { kind: 'number', value: 'N', min: 0.1, max: 100_000, default: 30, description: 'wall time for the whole command: 30% recording data, then training, then the evaluation' },
    prompts: { kind: 'string', value: 'FILE|DIR', description: 'text or code files to cut prompts from (default: fixtures/workspace/src); the last 20% of each file is held out for the evaluation' },
    device: { kind: 'string', value: 'DEV', description: "PyTorch device for training: 'auto' (CUDA when PyTorch sees one, default), 'cpu' or 'cuda'" },
    threads: { kind: 'int', value: 'N', min: 1, max: 256, description: 'CPU threads of the engine while recording and evaluating' },
    seed: { kind: 'int', value: 'S', min: 0, description: 'seed of the prompts and of training (default 1)' },
    'max-steps': { kind: 'int', value: 'N', min: 1, description: 'also stop training after N steps' },
    'exit-dim': { kind: 'int', value: 'E', min: 8, max: 65536, description: "width of the head's MLP (default 2 x hidden, or hidden when vocabulary x 2 x hidden passes 300M); the output layer is vocabulary x E" },
    layers: { kind: 'int', value: 'N', min: 0, max: 16, description: 'residual layers of the head (default 2)' },
    evaluate: { kind: 'string', value: 'DIR', description: 'only measure the head in DIR on the held-out prompts (tokens per verification step at 4 x 5, parity) and print the JSON line; trains nothing, needs no --out' },
    'max-positions': { kind: 'int', value: 'N', min: 100, description: 'record at most N positions (default 2,000,000)' },
    'eval-prompts': { kind: 'int', value: 'N', min: 1, max: 10_000, description: 'held-out prompts the evaluation decodes, plain and with ReDrafter at 4 x 5 (default 12)' },
    'fim-share': { kind: 'number', value: 'X', min: 0, max: 1, description: "share of fill-in-the-middle prompts (the server's own prompt layout) for a model with FIM tokens, in recording and the evaluation (default 0.5; 0: plain continuations only)" },
    help,
  },
};

export const quantizeCommand: CommandSpec = {
  name: 'quantize',
  summary:
    'Save a model folder with q8_0 or q4_0 weights (the engine quantizes and writes the blocks), which the engine then loads without quantizing again.',
  usage: 'slipstream quantize --model DIR --out DIR --weights q8_0|q4_0 [--threads N] [--json]',
  flags: {
    model: { ...model, description: 'the bf16/f16/f32 Hugging Face model folder to quantize (default: the shipped model)' },
    out: { kind: 'string', value: 'DIR', description: 'the quantized folder to write (new or empty): model.safetensors of blocks, config.json with slipstream_weights, the other files copied' },
    weights: { kind: 'string', value: 'FORMAT', description: "'q8_0' or 'q4_0': the layers' matrices (the embedding and head are q8_0 in both, norms and biases as stored)" },
    threads: { kind: 'int', value: 'N', min: 1, max: 256, description: 'CPU threads of the engine' },
    json: { kind: 'boolean', description: 'print one JSON object {out, model, weights, bytes, seconds, copied}' },
    help,
  },
};

export const commands: CommandSpec[] = [serveCommand, tokenCommand, generateCommand, benchCommand, infoCommand, traceCommand, trainDrafterCommand, quantizeCommand];
