import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run test:interop`: checks against Debian's tools (promtool, redis-cli, redis-benchmark,
// Chromium...), kept out of `npm test` so that it needs none of them. Each check skips, saying
// which package to install, when its tool is missing, unless FLAREDIS_INTEROP_REQUIRED is set
// (CI sets it): then a missing tool fails the check. Files run one at a time, in Node, each
// starting the real worker as the e2e tests do.
export default defineConfig({
  test: {
    name: "interop",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/interop/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
