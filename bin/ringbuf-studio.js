#!/usr/bin/env node
// Thin launcher: the CLI is bundled to dist/cli.js by `npm run build`.
'use strict';
const path = require('path');
const fs = require('fs');
const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundled)) {
  process.stderr.write('ringbuf-studio: dist/cli.js is missing; run `npm run build` (or `npm run setup`) first.\n');
  process.exit(2);
}
require(bundled);
