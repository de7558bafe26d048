// node harness/toolchain/warm-compile-cache.ts <module.ts>... with NODE_COMPILE_CACHE set: loads
// every module given, and everything they import, into Node's compile cache WITHOUT running any of
// them (harness/toolchain/compile-cache.ts says why). One synthetic module imports them all plus a
// binding that does not exist: Node loads, strips and compiles the whole graph, then linking fails
// on that binding, and a module graph that fails to link is never evaluated (ECMAScript: Link
// precedes Evaluate). Any other outcome is an error.
import { flushCompileCache } from 'node:module';
import { pathToFileURL } from 'node:url';

const missing = 'payproofWarmNoSuchExport';
const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: warm-compile-cache.ts <module.ts>...');
const source = [
  ...files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`),
  `import { ${missing} } from "data:text/javascript,export const present = 1";`,
].join('\n');
try {
  await import(`data:text/javascript,${encodeURIComponent(source)}`);
  throw new Error('the synthetic module linked: the modules may have run');
} catch (err) {
  if (!(err instanceof SyntaxError) || !err.message.includes(missing)) throw err;
}
flushCompileCache();
