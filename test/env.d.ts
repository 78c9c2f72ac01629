// The worker's bindings, as `env` from "cloudflare:workers" sees them in tests.
declare namespace Cloudflare {
  interface Env extends import("../worker/env").Env {}
}
