#!/usr/bin/env node
// `fleetconf` in a checkout, without a build: loads the TypeScript entry (cli/bin.ts) through
// tsx's ESM API on Node 20. The package's `bin` is the bundled dist/cli.mjs (npm run build).
import { tsImport } from "tsx/esm/api";

await tsImport("./bin.ts", import.meta.url);
