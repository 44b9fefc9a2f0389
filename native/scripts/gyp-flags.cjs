// Prints binding.gyp's C++ flags, one per line: target_defaults' cflags_cc, then its defines as -D.
// Scripts that compile the sources outside node-gyp (native/tensorrt/check-headers.sh,
// native/scripts/check-arm64.sh) take them from here, so a change to binding.gyp reaches them too.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// binding.gyp is JSON apart from its `#` comment lines.
const text = fs.readFileSync(path.join(__dirname, '..', '..', 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
const { cflags_cc: flags, defines } = JSON.parse(text).target_defaults;
if (!flags?.length) throw new Error('binding.gyp: target_defaults.cflags_cc is missing');
process.stdout.write([...flags, ...(defines ?? []).map((d) => `-D${d}`)].join('\n') + '\n');
