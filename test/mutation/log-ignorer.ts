// A Stryker ignorer (npm run mutate): mutants inside a call to a pino logger (`log.warn(...)`,
// `deps.log.error(...)`, `deps.log.child({...})`), and the removal of a statement that is only such a
// call (Stryker's `CallExpression` mutator empties the statement), are reported as Ignored, not tested. What a log
// line says is read by people, not by the system: no invariant, and no caller, depends on it, so such
// a mutant can only survive, and testing it costs a full run of the covering properties.
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child']);

interface Node {
  type: string;
  name?: string;
  object?: Node;
  property?: Node;
  callee?: Node;
  expression?: Node;
}

function isLogCall(node: Node | undefined): boolean {
  if (node?.type !== 'CallExpression' || node.callee?.type !== 'MemberExpression') return false;
  const { object, property } = node.callee;
  return property?.type === 'Identifier' && levels.has(property.name ?? '') && isLogger(object);
}

/** `log`, `x.log`, `this.#deps.log`: an identifier or member named log. */
function isLogger(n: Node | undefined): boolean {
  if (!n) return false;
  if (n.type === 'Identifier') return n.name === 'log';
  return n.type === 'MemberExpression' && n.property?.type === 'Identifier' && n.property.name === 'log';
}

class LogIgnorer {
  shouldIgnore(path: { node: Node }): string | undefined {
    const { node } = path;
    const call = node.type === 'ExpressionStatement' ? node.expression : node;
    return isLogCall(call) ? 'a log line: read by people, no behaviour depends on it' : undefined;
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Ignore, 'log-lines', LogIgnorer)];
