#!/usr/bin/env node
// A native-solc stand-in built on npm's solc-js (wasm), so that py-solc-x (ape-solidity) and
// crytic-compile (Slither) can compile offline: no native solc is reachable on our machines and
// their own downloaders must never run. It answers exactly the two calls those tools make:
//   solc --version
//   solc --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths ...]  < input.json
// and prints nothing but what the real binary would (no solcjs banner) so their parsers work.
import { createRequire } from "node:module";
import { readFileSync, existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(realpathSync(fileURLToPath(import.meta.url)));
const require = createRequire(path.join(here, "..", "package.json"));
const solc = require("solc");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // Same shape as the native binary: py-solc-x matches \d+\.\d+\.\d+(\+commit\.\w+).
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-npm: only --version and --standard-json are supported\n");
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") {
    roots.push(args[++i]);
  } else if (args[i].startsWith("--base-path=") || args[i].startsWith("--include-path=")) {
    roots.push(args[i].split("=", 2)[1]);
  }
}
if (roots.length === 0) roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (existsSync(candidate)) {
      return { contents: readFileSync(candidate, "utf8") };
    }
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const input = readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
