// GET /dashboard in workerd (issue 17): the page is served without a token and holds no secret;
// every call it makes goes to the admin API and needs the admin token. The page itself, in a
// browser, is checked by test/interop/dashboard.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DASHBOARD_HTML } from "../../worker/dashboard";
import { TOKENS, call } from "../support/helpers";

const page = (options: { token?: string | null; method?: string } = {}) =>
  call(undefined, { path: "/dashboard", method: options.method ?? "GET", token: options.token ?? null });

/** The paths the page's script fetches: every `get("/...")` in it. */
const calledPaths = (html: string) => [...html.matchAll(/\bget\("([^"]+)"\)/g)].map((m) => m[1]!);

const base64Sha256 = async (text: string) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))));

describe("GET /dashboard", () => {
  it("is served without a token, as HTML, the same page whatever token comes with it", async () => {
    const r = await page();
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.text).toBe(DASHBOARD_HTML);
    expect(r.text).toMatch(/^<!doctype html>/);
    for (const token of [TOKENS.admin, TOKENS.readonly, "wrong-token"]) expect((await page({ token })).text).toBe(DASHBOARD_HTML);
  });

  it("holds no secret and loads nothing from elsewhere", async () => {
    const { text } = await page();
    const secrets = [env.FLAREDIS_TOKEN, env.FLAREDIS_READONLY_TOKEN, env.FLAREDIS_ADMIN_TOKEN, env.FLAREDIS_METRICS_TOKEN, ...Object.values(TOKENS), "dev-metrics-token"];
    for (const secret of secrets.filter(Boolean)) expect(text.includes(secret!), `the page contains ${secret}`).toBe(false);
    // The only absolute URL is SVG's namespace, which is a name, never fetched.
    expect([...new Set(text.match(/\b(?:https?:)?\/\/[\w.-]+[^\s"']*/g))]).toEqual(["http://www.w3.org/2000/svg"]);
    expect(text).not.toMatch(/<(?:link|script|img)[^>]+(?:src|href)="(?!data:)/);
  });

  it("runs only its own script and style: the CSP names their hashes and this origin", async () => {
    const r = await page();
    const csp = r.headers.get("content-security-policy")!;
    const script = r.text.match(/<script>([\s\S]*)<\/script>/)![1]!;
    const style = r.text.match(/<style>([\s\S]*)<\/style>/)![1]!;
    expect(csp).toContain(`script-src 'sha256-${await base64Sha256(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${await base64Sha256(style)}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("keeps the token in sessionStorage and sends it as a Bearer token", () => {
    expect(DASHBOARD_HTML).toContain("sessionStorage");
    expect(DASHBOARD_HTML).not.toContain("localStorage");
    expect(DASHBOARD_HTML).not.toContain("document.cookie");
    expect(DASHBOARD_HTML).toContain('authorization: "Bearer " + token');
  });

  it("is GET only: HEAD and POST are not the page", async () => {
    expect((await page({ method: "HEAD" })).status).toBe(405);
    expect((await page({ method: "POST" })).status).toBe(401);
    expect((await page({ method: "POST", token: TOKENS.admin })).status).toBe(404);
  });
});

describe("every call the page makes needs the admin token", () => {
  const paths = calledPaths(DASHBOARD_HTML);

  it("asks the topology and the sentinels, nothing else", () => {
    expect(paths.sort()).toEqual(["/admin/sentinels", "/admin/topology"]);
    // No other way out of the page: every fetch goes through get().
    expect(DASHBOARD_HTML.match(/\bfetch\(/g)).toHaveLength(1);
    expect(DASHBOARD_HTML).not.toMatch(/XMLHttpRequest|WebSocket|EventSource|sendBeacon/);
  });

  it.each(paths)("%s: 401 without a token or with a wrong one, 403 with another token, 200 with the admin token", async (path) => {
    const get = (token: string | null) => call(undefined, { path, method: "GET", token });
    expect((await get(null)).status).toBe(401);
    expect((await get("wrong-token")).status).toBe(401);
    expect((await get("dev-metrics-token")).status).toBe(401);
    expect((await get(TOKENS.readwrite)).status).toBe(403);
    expect((await get(TOKENS.readonly)).status).toBe(403);
    const ok = await get(TOKENS.admin);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("application/json");
  });

  it("gets the shapes it draws: the topology's primary, replicas and sentinels", async () => {
    const { json } = await call(undefined, { path: "/admin/topology", method: "GET" });
    expect(json).toMatchObject({ from: "primary", epoch: expect.any(Number), primary: { node: "enam", offset: expect.any(Number) }, sentinels: [] });
    expect(json.replicas.map((r: { node: string }) => r.node).sort()).toEqual(["apac", "weur", "wnam"]);
    for (const r of json.replicas) expect(r).toMatchObject({ link: expect.stringMatching(/^(up|down)$/), offset: expect.any(Number), lag_ms: expect.any(Number) });
    // The workers project runs without sentinels: the page shows none (the interop check has them).
    expect((await call(undefined, { path: "/admin/sentinels", method: "GET" })).json).toEqual([]);
  });
});
