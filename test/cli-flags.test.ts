/**
 * One flag vocabulary across the `anchorseg` commands: a flag means the same thing, with the same
 * help, wherever it appears; the `ros` command's flags are the ROS parameter table's.
 * (In-process: builds the commander program without running any command.)
 */
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import * as buildEngine from '../cli/commands/build-engine.js';
import * as demo from '../cli/commands/demo.js';
import * as evaluate from '../cli/commands/eval.js';
import * as info from '../cli/commands/info.js';
import * as ros from '../cli/commands/ros.js';
import * as segment from '../cli/commands/segment.js';
import * as serve from '../cli/commands/serve.js';
import * as stream from '../cli/commands/stream.js';
import { flagFor, paramsFromFlags, REASON_PARAMS, reasonFromFlags } from '../cli/param-flags.js';
import { PARAMS, type ParamName } from '../ros/params.js';

/** A fresh program: commander keeps parsed values on the command, so each parse gets its own. */
function anchorseg(): Command {
  const program = new Command('anchorseg');
  for (const c of [segment, evaluate, info, buildEngine, demo, stream, serve, ros]) c.register(program);
  return program;
}
const program = anchorseg();
const command = (name: string, from = program) => from.commands.find((c) => c.name() === name)!;
const option = (name: string, flag: string) => (command(name).options as Option[]).find((o) => o.long === flag);

/** Parses argv with a command's options only (its action is not run). */
function parse(name: string, argv: string[]): Record<string, unknown> {
  const cmd = command(name, anchorseg());
  const parsed = cmd.parseOptions(argv);
  expect(parsed.unknown).toEqual([]);
  return cmd.opts();
}

describe('one flag vocabulary', () => {
  it('a flag has the same argument and help in every command that takes it', () => {
    const seen = new Map<string, { flags: string; description: string; where: string }>();
    const differ: string[] = [];
    for (const cmd of program.commands) {
      for (const o of cmd.options as Option[]) {
        const key = o.long!;
        const first = seen.get(key);
        if (!first) seen.set(key, { flags: o.flags, description: o.description, where: cmd.name() });
        // Outputs (each command's own folder) and --frames/--goal/--json help may name what the command does; the argument must agree.
        else if (first.flags.replace(/^-\w, /, '') !== o.flags.replace(/^-\w, /, '')) differ.push(`${key}: ${first.where} "${first.flags}" vs ${cmd.name()} "${o.flags}"`);
      }
    }
    expect(differ).toEqual([]);
  });

  it('--frames is a count of frames wherever it appears', () => {
    const frames = program.commands.flatMap((c) => (c.options as Option[]).filter((o) => o.long === '--frames').map((o) => `${c.name()} ${o.flags}`));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f).toMatch(/--frames <n>$/);
  });

  it('every command that runs the model takes --bundle, --backend and --threads with the same help', () => {
    const engine = ['segment', 'eval', 'demo', 'stream', 'serve', 'ros'];
    for (const flag of ['--bundle', '--backend', '--threads']) {
      const helps = new Set(engine.map((c) => option(c, flag)?.description));
      expect(helps.size, flag).toBe(1);
      expect([...helps][0], flag).toBeTruthy();
    }
    expect(option('info', '--bundle')?.description).toBe(option('segment', '--bundle')?.description);
    expect(option('build-engine', '--bundle')?.description).toBe(option('segment', '--bundle')?.description);
  });

  it('the reasoning policy has the same three flags, with the same help, on stream, demo, serve and ros', () => {
    for (const name of REASON_PARAMS) {
      const helps = new Set(['stream', 'demo', 'serve', 'ros'].map((c) => option(c, flagFor(name))?.description));
      expect(helps.size, name).toBe(1);
      expect([...helps][0], name).toContain(name);
    }
    for (const c of ['stream', 'demo', 'serve']) {
      for (const old of ['--every', '--after-ms', '--no-adaptive']) expect(option(c, old), `${c} ${old}`).toBeUndefined();
    }
  });

  it('--reason-every means the same everywhere: every N frames besides goal changes, adaptive reasoning still on unless turned off', () => {
    for (const c of ['stream', 'demo', 'serve', 'ros']) {
      expect(reasonFromFlags(parse(c, ['--reason-every', '4']))).toEqual({ every: 4, adaptive: true });
      expect(reasonFromFlags(parse(c, ['--reason-every', '1', '--no-reason-adaptive']))).toEqual({ every: 1 });
      expect(reasonFromFlags(parse(c, ['--reason-after-ms', '250']))).toEqual({ afterMs: 250, adaptive: true });
      expect(reasonFromFlags(parse(c, []))).toEqual({ adaptive: true });
    }
  });
});

describe('anchorseg ros: flags from the parameter table', () => {
  it('every ROS parameter has its flag, named after it, described by the table', () => {
    const engine: ParamName[] = ['bundle', 'backend', 'threads'];
    for (const name of Object.keys(PARAMS) as ParamName[]) {
      const flag = engine.includes(name) ? `--${name}` : flagFor(name);
      const o = option('ros', flag);
      expect(o, `${name} -> ${flag}`).toBeDefined();
      if (!engine.includes(name)) expect(o!.description).toContain(`ROS parameter ${name}`);
    }
    expect(option('ros', '--no-overlay')).toBeUndefined();
  });

  it('only the flags given become parameters (the rest stay with --ros-args -p and the defaults), checked as the node checks them', () => {
    const names = Object.keys(PARAMS) as ParamName[];
    expect(paramsFromFlags(parse('ros', []), names)).toEqual({});
    expect(paramsFromFlags(parse('ros', ['-g', 'the red cup', '--image-depth', '5', '--no-publish-overlay', '--metadata-format', 'json', '--reason-after-ms', '12.5']), names)).toEqual({
      goal: 'the red cup',
      image_depth: 5,
      publish_overlay: false,
      metadata_format: 'json',
      reason_after_ms: 12.5,
    });
    const cmd = command('ros', anchorseg());
    cmd.exitOverride().configureOutput({ writeErr: () => {} });
    expect(() => cmd.parseOptions(['--image-depth', '0'])).toThrow(/Expected an integer between 1 and 100 for parameter image_depth but received 0/);
    expect(() => cmd.parseOptions(['--metadata-format', 'xml'])).toThrow(/Expected one of msg, json for parameter metadata_format/);
    expect(() => cmd.parseOptions(['--score-threshold', 'high'])).toThrow(/Expected a number for parameter score_threshold/);
  });
});
