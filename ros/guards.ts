/**
 * Checks that run before rclnodejs 2.2 handles a peer's request, where its own handling would
 * kill the node or answer with a garbled reason. Each wraps one method of the node instance
 * (node_modules stays as published); the node refuses to start if rclnodejs no longer has it.
 */
import { AnchorSegError, describe } from '../sdk/base/errors.js';
import { PARAMS, rosTypeMismatch, type ParamName } from './params.js';
import type { RosLifecycleNode, RosNode, RosParameter, SetParametersResult } from './types.js';

interface RosTransition {
  readonly id: number;
  readonly label: string;
}

/** What rclnodejs hands a service callback to answer with. */
interface ServiceResponse<T> {
  readonly template: T;
  send(result: T): void;
}

interface ChangeStateHandling {
  _onChangeState(request: { transition: RosTransition }, response: ServiceResponse<{ success: boolean }>): void;
  readonly availableTransitions: readonly { transition: RosTransition }[];
  readonly transitions: readonly { transition: RosTransition }[];
  readonly currentState: { readonly label: string };
}

interface ParameterValidation {
  _validateParameters(parameters: RosParameter[], declareParameterMode?: boolean): SetParametersResult;
}

/** The instance's method `name`, bound; throws ERR_NATIVE_UNAVAILABLE when this rclnodejs lacks it. */
function method<T extends object, K extends keyof T>(target: T, name: K): T[K] {
  const found = target[name];
  if (typeof found !== 'function') {
    throw new AnchorSegError('ERR_NATIVE_UNAVAILABLE', `Expected rclnodejs 2.x, whose nodes have a ${String(name)} method, but received a node whose ${String(name)} is ${describe(found)}`);
  }
  return found.bind(target) as T[K];
}

/**
 * The change_state service answers success=false, with a log line saying why, to a transition
 * the current state does not offer. rclnodejs 2.2 triggers it regardless; rcl refuses it, the
 * binding throws inside the service callback, and a throw there escapes its executor's libuv
 * callback as a C++ exception: std::terminate, SIGABRT. Anyone on the graph could kill the node.
 */
export function guardChangeState(node: RosLifecycleNode, warn: (message: string) => void): void {
  const lifecycle = node as unknown as ChangeStateHandling;
  const handle = method(lifecycle, '_onChangeState');
  lifecycle._onChangeState = (request, response) => {
    const { id, label } = request.transition;
    const offered = lifecycle.availableTransitions.map((t) => t.transition);
    // As rclcpp and rclnodejs read a request: by label when it has one, else by id.
    const wanted = label ? offered.find((t) => t.label === label) : offered.find((t) => t.id === id);
    let reason: string;
    if (wanted) {
      try {
        handle(request, response);
        return;
      } catch (err) {
        // Whatever else throws in there would abort the process the same way.
        reason = `transition ${wanted.label} failed: ${(err as Error).message}`;
      }
    } else {
      const known = lifecycle.transitions.find((t) => t.transition.id === id)?.transition.label;
      const asked = label ? `label ${JSON.stringify(label)}` : `id ${id}${known ? ` (${known})` : ''}`;
      reason = `Expected a transition that state ${lifecycle.currentState.label} offers (${offered.map((t) => `${t.label} = ${t.id}`).join(', ')}) but received ${asked}`;
    }
    warn(`refusing change_state request: ${reason}`);
    const result = response.template;
    result.success = false;
    response.send(result);
  };
}

/**
 * A parameter set with a value of the wrong type is refused with a reason that says so
 * (`reason_every: expected an integer, received a string "abc"`), for any parameter of the
 * node, read-only ones included. rclnodejs 2.2 answers "Parameter X does not  readonly" (or
 * "is readonly") instead. This also runs when parameters are declared (overrides on the
 * command line); their ranges are checked by the node (checkParam).
 */
export function guardParameterTypes(node: RosNode): void {
  const target = node as unknown as ParameterValidation;
  const validate = method(target, '_validateParameters');
  target._validateParameters = (parameters, declareParameterMode) => {
    for (const p of parameters) {
      const reason = Object.hasOwn(PARAMS, p.name) ? rosTypeMismatch(p.name as ParamName, p.type, p.value) : undefined;
      if (reason) return { successful: false, reason };
    }
    return validate(parameters, declareParameterMode);
  };
}
