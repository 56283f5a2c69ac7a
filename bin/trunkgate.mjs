#!/usr/bin/env -S node --v8-pool-size=1 --heap-growing-percent=200
// node's options as `npm start` gives them (package.json; README "Performance", V8's helper threads).
// Starts trunkgate: the compiled build when there is one (npm run build), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
