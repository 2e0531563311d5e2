#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

const code = await main(process.argv.slice(2));
// After a failure, exit even where a model session or a timer would keep the process alive.
if (code === 0) process.exitCode = 0;
else process.exit(code);
