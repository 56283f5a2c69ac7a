// A build step for drachtio-srf's code (scripts/build.mjs): its log lines go through the `debug` package, many with
// template strings that stringify a whole message or its options (`debug(\`Response#send: msg: ${JSON.stringify(
// this.msg)}\`)`), and JavaScript builds those strings before the call whether the namespace is on or not. Each
// statement that calls one of the file's `debug` loggers is guarded by that logger's own `enabled` flag, so the text
// is built only when DEBUG asks for it and the output is the same as before when it does (docs/performance.md).
import { readFile } from 'node:fs/promises';

/** The names a file binds to a `debug` logger: `const debug = require('debug')('drachtio:srf')`. */
function loggerNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"]debug['"]\s*\)\s*\(/g)) names.add(m[1]);
  return names;
}

/**
 * The file's text with every statement that starts with a call of one of its `debug` loggers guarded
 * (`debug(…)` → `debug.enabled && debug(…)`), and how many were guarded.
 * @param {string} text
 * @returns {{ text: string, guarded: number }}
 */
export function guardDebugCalls(text) {
  const names = loggerNames(text);
  if (names.size === 0) return { text, guarded: 0 };
  let guarded = 0;
  const out = text.replace(/^([ \t]*)([A-Za-z_$][\w$]*)\(/gm, (all, indent, name) => {
    if (!names.has(name)) return all;
    guarded++;
    return `${indent}${name}.enabled && ${name}(`;
  });
  return { text: out, guarded };
}

/** The esbuild plugin: drachtio-srf's own files, as they are bundled. */
export const guardDebugPlugin = {
  name: 'guard-debug-calls',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]drachtio-srf[\\/]lib[\\/][^\\/]+\.js$/ }, async (args) => {
      return { contents: guardDebugCalls(await readFile(args.path, 'utf8')).text, loader: 'js' };
    });
  },
};
