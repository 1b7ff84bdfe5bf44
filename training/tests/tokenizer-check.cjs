// Encodes and decodes documents with @huggingface/tokenizers (the engine's tokenizer) for the
// Python tests: reads {"tokenizer": path, "config": path, "texts": [...]} JSON on stdin and
// prints {"ids": [[...]], "decoded": [...]} so the test can compare with the Python encoder.
const { Tokenizer } = require('@huggingface/tokenizers');
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const tok = new Tokenizer(JSON.parse(fs.readFileSync(input.tokenizer, 'utf8')),
  JSON.parse(fs.readFileSync(input.config, 'utf8')));
const ids = input.texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids);
const decoded = (input.decode || ids).map((x) => (x.length ? tok.decode(x, { skip_special_tokens: false }) : ''));
process.stdout.write(JSON.stringify({ ids, decoded }));
