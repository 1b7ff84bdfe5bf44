// Runs the Slipstream engine (dist/native/lib) on an exported model for the Python parity tests:
// reads {model, drafter, prompt, maxTokens, beams, beamLength} JSON on stdin and prints
// {logits: (n, vocab) for every prompt position, hidden: (n, hidden), ar: ids, redrafter: ids,
//  stats} so the test can compare with the PyTorch reference (training/slipstream_train/model.py).
// Exits 3 with a message on stderr when the engine is not built.
const fs = require('fs');
const path = require('path');
const repo = path.join(__dirname, '..', '..');
const libPath = path.join(repo, 'dist', 'native', 'lib', 'index.js');
if (!fs.existsSync(libPath)) {
  process.stderr.write(`engine not built: ${libPath} missing (run npm run build && npm run build:native)\n`);
  process.exit(3);
}
const lib = require(libPath);

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const model = await lib.Model.load(input.model, { threads: 1 });
  const prompt = Int32Array.from(input.prompt);
  const s1 = model.createSession();
  const rows = Int32Array.from(prompt.map((_, i) => i));
  const fwd = await s1.forward(prompt, { outputRows: rows, hidden: true });
  const V = model.info.vocabSize;
  const H = model.info.hiddenSize;
  const logits = [];
  const hidden = [];
  for (let i = 0; i < prompt.length; i++) {
    logits.push(Array.from(fwd.logits.subarray(i * V, (i + 1) * V)));
    hidden.push(Array.from(fwd.hidden.subarray(i * H, (i + 1) * H)));
  }
  s1.dispose();
  const run = async (opts) => {
    const s = model.createSession();
    const it = s.generate(prompt, { maxTokens: input.maxTokens, temperature: 0, ...opts });
    let r = await it.next();
    while (!r.done) r = await it.next();
    s.dispose();
    return { ids: Array.from(r.value.ids), stats: r.value.stats, stoppedBy: r.value.stoppedBy };
  };
  const ar = await run({ mode: 'ar' });
  let redrafter = null;
  if (input.drafter) {
    const drafter = await lib.Drafter.load(input.drafter, model);
    redrafter = await run({ mode: 'redrafter', drafter, beams: input.beams, beamLength: input.beamLength });
    drafter.dispose();
  }
  process.stdout.write(JSON.stringify({ logits, hidden, ar, redrafter, info: model.info }));
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
