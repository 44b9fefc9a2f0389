// `npm install` hook (package.json "install"): use a prebuilt or already built addon when it
// loads, else build it with node-gyp. A failed build must not fail the install: the SDK then
// runs the TypeScript kernels, and this prints one line saying so.
//   node native/scripts/install.cjs            install-time behaviour
//   node native/scripts/install.cjs --rebuild  always rebuild; a failure exits non-zero (npm run build:native)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const rebuild = process.argv.includes('--rebuild');

function loads() {
  const r = spawnSync(process.execPath, ['-e', 'const a = require("node-gyp-build")(process.argv[1]); if (typeof a.frameToTensor !== "function") process.exit(1)', root], {
    stdio: 'ignore',
  });
  return r.status === 0;
}

// node-gyp: npm passes its bundled copy in npm_config_node_gyp; otherwise one on PATH.
function nodeGyp(args) {
  const script = process.env.npm_config_node_gyp;
  const [cmd, argv] = script && fs.existsSync(script) ? [process.execPath, [script, ...args]] : ['node-gyp', args];
  return spawnSync(cmd, argv, { cwd: root, stdio: rebuild ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

// Headers installed next to node (Debian's nodejs, official tarballs) avoid a download that
// fails on machines without access to nodejs.org.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

if (!rebuild && loads()) process.exit(0);
const jobs = process.env.JOBS || '2';
const r = nodeGyp(['rebuild', '-j', jobs, ...nodedirArgs()]);
if (r.status === 0 && loads()) process.exit(0);
if (rebuild) process.exit(r.status || 1);
const why = `${r.error ? r.error.message : ''}${r.stderr || ''}`.split('\n').find((l) => /error/i.test(l)) || `node-gyp exited with ${r.status}`;
process.stderr.write(`anchorseg: native kernels not built (${why.trim().slice(0, 160)}); using the TypeScript kernels. \`npm run build:native\` shows the full build log.\n`);
