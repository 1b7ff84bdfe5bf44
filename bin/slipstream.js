#!/usr/bin/env node
// The `slipstream` command. Runs the compiled CLI from dist/ (built by npm install).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'server', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('slipstream: not built yet (no dist/); run npm install or npm run build\n');
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
