#!/usr/bin/env node
import { Command } from 'commander';
import * as buildEngine from './commands/build-engine.js';
import * as demo from './commands/demo.js';
import * as evaluate from './commands/eval.js';
import * as info from './commands/info.js';
import * as ros from './commands/ros.js';
import * as segment from './commands/segment.js';
import * as serve from './commands/serve.js';
import * as stream from './commands/stream.js';
import * as view from './commands/view.js';
import { VERSION } from './run.js';

/** Each command lives in commands/<name>.ts and exports register(program); add new ones here. */
const COMMANDS: { register(program: Command): void }[] = [segment, evaluate, info, buildEngine, demo, stream, view, serve, ros];

const program = new Command('anchorseg').description('Reasoning segmentation at the edge: say what you want, get its pixel mask.').version(VERSION).showHelpAfterError('(run with --help for usage)');
for (const command of COMMANDS) command.register(program);
await program.parseAsync();
