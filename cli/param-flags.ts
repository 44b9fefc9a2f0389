/**
 * Command-line flags generated from the ROS node's parameter table (ros/params.ts), so a setting
 * has one name, one type, one range and one meaning whether it is given as `anchorseg ros
 * --reason-every 4`, `--ros-args -p reason_every:=4` or `anchorseg stream --reason-every 4`.
 * A parameter `name_with_parts` is the flag `--name-with-parts <value>`; a bool parameter whose
 * default is true is `--no-name-with-parts`, one whose default is false `--name-with-parts`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { AnchorSegError } from '../sdk/base/errors.js';
import type { ReasonOptions } from '../sdk/stream/policy.js';
import { checkParam, DEFAULT_PARAMS, PARAMS, reasonOptions, type NodeParams, type ParamName } from '../ros/params.js';

/** The parameters that set the reasoning policy: the same flags on stream, demo, serve and ros. */
export const REASON_PARAMS = ['reason_every', 'reason_after_ms', 'reason_adaptive'] as const satisfies readonly ParamName[];

const PLACEHOLDER = { string: '<text>', integer: '<n>', double: '<x>' } as const;

/** `reason_every` -> `reason-every`. */
const dashed = (name: ParamName) => name.replace(/_/g, '-');
/** commander's attribute for a flag: `reason_every` -> `reasonEvery`. */
const attribute = (name: ParamName) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flag that sets `name`, as users type it (`--reason-every`, `--no-reason-adaptive`). */
export function flagFor(name: ParamName): string {
  return PARAMS[name].kind === 'bool' && DEFAULT_PARAMS[name] === true ? `--no-${dashed(name)}` : `--${dashed(name)}`;
}

/** Parses and checks a flag's value exactly as the node checks the parameter (range, type), as a usage error. */
function parser(name: ParamName): (text: string) => unknown {
  return (text) => {
    const kind = PARAMS[name].kind;
    const value = kind === 'string' ? text : text.trim() === '' ? NaN : Number(text);
    try {
      if (Number.isNaN(value)) throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${kind === 'integer' ? 'an integer' : 'a number'} for parameter ${name} but received ${JSON.stringify(text)}`);
      return checkParam(name, value);
    } catch (err) {
      if (err instanceof AnchorSegError) throw new InvalidArgumentError(`${err.message}.`);
      throw err;
    }
  };
}

/**
 * Adds one flag per parameter in `names`, described by the parameter table; `short` gives
 * one-letter aliases (`{ goal: '-g' }`). No defaults are set: a flag not given leaves the
 * parameter to the node's default or a `--ros-args -p` override.
 */
export function addParamFlags(cmd: Command, names: readonly ParamName[], short: Partial<Record<ParamName, string>> = {}): Command {
  for (const name of names) {
    const spec = PARAMS[name];
    const def = DEFAULT_PARAMS[name];
    const alias = short[name] ? `${short[name]}, ` : '';
    const where = `ROS parameter ${name}${def === '' ? '' : `, default ${def}`}`;
    if (spec.kind === 'bool') {
      cmd.addOption(new Option(`${alias}${flagFor(name)}`, def ? `turn off (${where}): ${spec.description.charAt(0).toLowerCase()}${spec.description.slice(1)}` : `${spec.description} (${where})`));
    } else {
      cmd.addOption(new Option(`${alias}${flagFor(name)} ${PLACEHOLDER[spec.kind]}`, `${spec.description} (${where})`).argParser(parser(name)));
    }
  }
  return cmd;
}

/** The parameters among `names` that the command line set (the rest keep their defaults). */
export function paramsFromFlags(flags: Record<string, unknown>, names: readonly ParamName[]): Partial<NodeParams> {
  const given: Record<string, unknown> = {};
  for (const name of names) {
    const value = flags[attribute(name)];
    // commander gives a --no-x flag the value true when it is absent.
    if (value === undefined || (PARAMS[name].kind === 'bool' && value === DEFAULT_PARAMS[name])) continue;
    given[name] = value;
  }
  return given as Partial<NodeParams>;
}

/** `--reason-every <n>`, `--reason-after-ms <x>`, `--no-reason-adaptive`. */
export function addReasonFlags(cmd: Command): Command {
  return addParamFlags(cmd, REASON_PARAMS);
}

/** The stream's reasoning policy from the reason flags, as the ROS node makes it from its parameters. */
export function reasonFromFlags(flags: Record<string, unknown>): ReasonOptions {
  return reasonOptions({ ...DEFAULT_PARAMS, ...paramsFromFlags(flags, REASON_PARAMS) });
}
