#!/usr/bin/env node
// Validate a .glb/.gltf file with the Khronos glTF validator and print its JSON report.
// Usage: node tools/validate_gltf.mjs FILE   (install once: npm ci --prefix tools/node)
// Exit code: 0 when the report has no errors, 1 when it has errors, 2 on usage/IO problems.
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import path from "node:path";

const require = createRequire(new URL("./node/package.json", import.meta.url));
const validator = require("gltf-validator");

const file = process.argv[2];
if (!file) {
  console.error("usage: node tools/validate_gltf.mjs FILE");
  process.exit(2);
}
try {
  const data = await readFile(file);
  const report = await validator.validateBytes(new Uint8Array(data), {
    uri: path.basename(file),
    maxIssues: 200,
    externalResourceFunction: (uri) => readFile(path.resolve(path.dirname(file), decodeURIComponent(uri))),
  });
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.issues.numErrors > 0 ? 1 : 0);
} catch (err) {
  console.error(String(err));
  process.exit(2);
}
