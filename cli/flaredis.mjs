#!/usr/bin/env node
// The `flaredis` bin. The tools are TypeScript run by Node's type stripping (on by default from
// Node 22.18), like bench/. `npx flaredis` in the repo runs this with the repo's pinned Node 22
// (node_modules/.bin is on its PATH); a plain JavaScript entry still starts under an older Node
// (a global link, a system Node 20) and then hands over to the pinned one instead of failing on
// the first type annotation.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("./main.ts", import.meta.url);
if (process.features.typescript) {
  await import(main.href);
} else {
  const pinned = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`flaredis: Node ${process.version} cannot run TypeScript; use Node 22.18 or later, or run npm install`);
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(main), ...process.argv.slice(2)], { stdio: "inherit" });
  // The terminal's Ctrl-C reaches the child by itself; this process only waits for it.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
