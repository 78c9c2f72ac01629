// The `flaredis` tools' pure parts: the proxy's RESP decoder (fuzzed with fast-check: it throws
// nothing but a ProtocolError, and a frame cut anywhere waits for the rest), the RESP encoder,
// the API's base64 JSON made into replies, and redis-cli's reply formatting.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fillValue } from "../../cli/fill";
import { formatRaw, formatReply } from "../../cli/format";
import { FlaredisHttp } from "../../cli/http";
import { fromOutcome, parseJsonExact, type Reply } from "../../cli/reply";
import { encodeReplies, ProtocolError, RESP_LIMITS, RespDecoder } from "../../cli/resp";
import { Session } from "../../cli/session";
import { splitArgs } from "../../durable-objects/engine/split-args";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const b64 = (s: string) => btoa(String.fromCharCode(...utf8(s)));

function frame(args: Uint8Array[]): Uint8Array {
  const parts = [utf8(`*${args.length}\r\n`)];
  for (const a of args) parts.push(utf8(`$${a.length}\r\n`), a, utf8("\r\n"));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** Every command the decoder yields, or the protocol error it stopped on. */
function decodeAll(chunks: Uint8Array[]): { commands: string[][]; error?: string } {
  const decoder = new RespDecoder();
  const commands: string[][] = [];
  try {
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let c = decoder.next(); c; c = decoder.next()) commands.push(c.map(text));
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { commands, error: e.message };
  }
  return { commands };
}

describe("RESP decoder", () => {
  it("reads arrays of bulk strings, binary bytes intact", () => {
    const decoder = new RespDecoder();
    decoder.push(frame([utf8("SET"), utf8("k"), Uint8Array.of(0, 0xff, 0x0d, 0x0a)]));
    expect(decoder.next()).toEqual([utf8("SET"), utf8("k"), Uint8Array.of(0, 0xff, 0x0d, 0x0a)]);
    expect(decoder.next()).toBeNull();
  });

  it("reads inline commands with redis-cli's quoting, skips empty lines and *0", () => {
    expect(decodeAll([utf8('PING\r\n\r\nSET k "a b\\x41\\n"\nGET \'it\\\'s\'\r\n*0\r\n*-1\r\nECHO x\n')])).toEqual({
      commands: [["PING"], ["SET", "k", "a bA\n"], ["GET", "it's"], ["ECHO", "x"]],
    });
  });

  it("gives Redis's errors for malformed input, after the commands before it", () => {
    const cases: [string, string][] = [
      ["*1\r\n$-5\r\n", "Protocol error: invalid bulk length"],
      ["*99999999999\r\n", "Protocol error: invalid multibulk length"],
      ["*abc\r\n", "Protocol error: invalid multibulk length"],
      ["*01\r\n", "Protocol error: invalid multibulk length"],
      ["*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"],
      [`*1\r\n$${RESP_LIMITS.bulkBytes + 1}\r\n`, "Protocol error: invalid bulk length"],
      ['SET "k\r\n', "Protocol error: unbalanced quotes in request"],
      ['SET "k"x\r\n', "Protocol error: unbalanced quotes in request"],
    ];
    for (const [input, error] of cases) expect(decodeAll([utf8(`PING\r\n${input}`)])).toEqual({ commands: [["PING"]], error });
  });

  it("refuses a huge declared length at once, without waiting for (or allocating) the bytes", () => {
    expect(decodeAll([utf8("*1\r\n$9999999999999\r\n")]).error).toBe("Protocol error: invalid bulk length");
    expect(decodeAll([utf8(`*${RESP_LIMITS.args + 1}\r\n`)]).error).toBe("Protocol error: invalid multibulk length");
    // A length within bounds waits for its bytes without reserving them.
    const header = utf8(`*1\r\n$${RESP_LIMITS.bulkBytes}\r\n`);
    const decoder = new RespDecoder();
    decoder.push(header);
    expect(decoder.next()).toBeNull();
    expect(decoder.buffered).toBe(0); // the headers are read, nothing is held for the payload
    // Arguments that add up past one command's bound: refused at the header that passes it.
    const small = new RespDecoder({ ...RESP_LIMITS, commandBytes: 5 });
    small.push(utf8("*2\r\n$3\r\nabc\r\n$3\r\n"));
    expect(() => small.next()).toThrow("Protocol error: command larger than 5 bytes");
  });

  it("refuses a line or an inline command longer than 64 KiB before its end arrives", () => {
    expect(decodeAll([utf8("*".padEnd(70_000, "1"))]).error).toBe("Protocol error: too big mbulk count string");
    expect(decodeAll([utf8("P".padEnd(70_000, "x"))]).error).toBe("Protocol error: too big inline request");
  });

  it("fuzzed: random bytes yield commands or a ProtocolError, nothing else", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        decodeAll(chunks); // throws if anything but a ProtocolError escapes
      }),
      { numRuns: 2000 },
    );
  });

  it("fuzzed: RESP-shaped garbage (mutated frames) yields commands or a ProtocolError", () => {
    const token = fc.oneof(
      fc.constantFrom("*", "$", "\r\n", "\r", "\n", "-1", "0", "1", "2", "3", "99999999999999999999", '"', "'", " ", "\\x4", "a"),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), (tokens, cut) => {
        const bytes = utf8(tokens.join(""));
        const chunks = [];
        for (let i = 0; i < bytes.length; i += cut) chunks.push(bytes.subarray(i, i + cut));
        decodeAll(chunks);
      }),
      { numRuns: 2000 },
    );
  });

  it("fuzzed: frames cut anywhere wait for the rest and decode to what was sent", () => {
    const command = fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (commands, cuts) => {
        const whole = commands.map(frame);
        const bytes = new Uint8Array(whole.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of whole) (bytes.set(f, at), (at += f.length));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) (chunks.push(bytes.slice(from, p)), (from = p));
        const decoder = new RespDecoder();
        const got: Uint8Array[][] = [];
        for (const chunk of chunks) {
          decoder.push(chunk);
          for (let c = decoder.next(); c; c = decoder.next()) got.push(c);
        }
        expect(got).toEqual(commands);
        expect(decoder.buffered).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("splitArgs", () => {
  it("splits as redis-cli does", () => {
    const split = (s: string) => splitArgs(utf8(s))?.map(text) ?? null;
    expect(split('  set  "a\\tb"  \'c d\'  ')).toEqual(["set", "a\tb", "c d"]);
    expect(split('"\\x41\\x4"')).toEqual(["Ax4"]);
    expect(split('"unterminated')).toBeNull();
    expect(split("")).toEqual([]);
  });
});

describe("RESP encoder", () => {
  it("encodes every kind of reply", () => {
    const replies: Reply[] = ["OK", utf8("v"), Uint8Array.of(0xff), 12345678901234567890n, null, { error: "ERR bad\r\nthing" }, [utf8("a"), [1n, null], []]];
    expect(text(encodeReplies(replies))).toBe(
      "+OK\r\n$1\r\nv\r\n$1\r\n\ufffd\r\n:12345678901234567890\r\n$-1\r\n-ERR bad  thing\r\n*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n*0\r\n",
    );
    expect(encodeReplies([Uint8Array.of(0xff, 0)])).toEqual(Uint8Array.from([...utf8("$2\r\n"), 0xff, 0, ...utf8("\r\n")]));
  });
});

describe("the HTTP API's base64 JSON as replies", () => {
  const reply = (json: string, args: string[] = ["GET"]) => fromOutcome(parseJsonExact(json) as never, args);

  it("maps results, keeping 64-bit integers exact and bytes as sent", () => {
    expect(reply('{"result":"OK"}')).toBe("OK");
    expect(reply(`{"result":"${b64("v")}"}`)).toEqual(utf8("v"));
    expect(reply('{"result":"/wA="}')).toEqual(Uint8Array.of(0xff, 0));
    expect(reply('{"result":9223372036854775807}')).toBe(9223372036854775807n);
    expect(reply('{"result":null}')).toBeNull();
    expect(reply(`{"result":["${b64("a")}",null,[1,"OK"]]}`)).toEqual([utf8("a"), null, [1n, "OK"]]);
    expect(reply('{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"}')).toEqual({
      error: "WRONGTYPE Operation against a key holding the wrong kind of value",
    });
  });

  it("answers PING and TYPE as status replies, PING with a message as bulk", () => {
    expect(reply(`{"result":"${b64("PONG")}"}`, ["ping"])).toBe("PONG");
    expect(reply(`{"result":"${b64("string")}"}`, ["TYPE", "k"])).toBe("string");
    expect(reply(`{"result":"${b64("hi")}"}`, ["PING", "hi"])).toEqual(utf8("hi"));
  });
});

describe("redis-cli formatting", () => {
  it("prints as redis-cli on a terminal", () => {
    expect(formatReply("OK")).toBe("OK\n");
    expect(formatReply(utf8('v "q"\n\\'))).toBe('"v \\"q\\"\\n\\\\"\n');
    expect(formatReply(utf8("é\x00\x7f"))).toBe('"\\xc3\\xa9\\x00\\x7f"\n');
    expect(formatReply(1n)).toBe("(integer) 1\n");
    expect(formatReply(null)).toBe("(nil)\n");
    expect(formatReply({ error: "ERR x" })).toBe("(error) ERR x\n");
    expect(formatReply([])).toBe("(empty array)\n");
    expect(formatReply([utf8("a"), null, 2n])).toBe('1) "a"\n2) (nil)\n3) (integer) 2\n');
  });

  it("aligns indices and indents nested arrays as redis-cli does", () => {
    const ten: Reply[] = Array.from({ length: 10 }, (_, i) => utf8(String(i)));
    expect(formatReply(ten).split("\n").slice(8, 10)).toEqual([' 9) "8"', '10) "9"']);
    expect(formatReply([utf8("0"), [utf8("a"), [utf8("b"), 1n]], []])).toBe(
      '1) "0"\n2) 1) "a"\n   2) 1) "b"\n      2) (integer) 1\n3) (empty array)\n',
    );
  });

  it("prints --raw as redis-cli --raw", () => {
    expect(text(formatRaw([utf8("a"), null, 3n, [utf8("b"), utf8("c")]]))).toBe("a\n\n3\nb\nc");
    expect(text(formatRaw({ error: "ERR x" }))).toBe("ERR x\n");
    expect(formatRaw(Uint8Array.of(0xff))).toEqual(Uint8Array.of(0xff));
  });
});

describe("the tools' HTTP requests carry any bytes", () => {
  /** A FlaredisHttp whose fetch records each request and answers OK to each command. */
  function recording() {
    const sent: { body: unknown; encoding: string | null }[] = [];
    const fetchFn = (async (_url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      const body = JSON.parse(String(init.body)) as unknown;
      sent.push({ body, encoding: headers["Flaredis-Request-Encoding"] ?? null });
      const n = Array.isArray(body) && Array.isArray(body[0]) ? body.length : 1;
      return new Response(JSON.stringify(n === 1 && !Array.isArray((body as unknown[])[0]) ? { result: "OK" } : Array.from({ length: n }, () => ({ result: "OK" }))));
    }) as unknown as typeof fetch;
    return { sent, session: new Session(new FlaredisHttp("http://x", "t", fetchFn), 1) };
  }

  it("sends printable ASCII as JSON text, and a batch with any other byte as base64, byte for byte", async () => {
    const { sent, session } = recording();
    await session.run([[utf8("SET"), utf8("k"), utf8("v w")]]);
    expect(sent.at(-1)).toEqual({ body: ["SET", "k", "v w"], encoding: null });
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await session.run([[utf8("SET"), Uint8Array.of(0x80, 0xff), bytes], [utf8("GET"), utf8("k")]]);
    expect(sent.at(-1)!.encoding).toBe("base64");
    const [first, second] = sent.at(-1)!.body as string[][];
    expect(first!.map((a) => [...Uint8Array.from(atob(a), (c) => c.charCodeAt(0))])).toEqual([[...utf8("SET")], [0x80, 0xff], [...bytes]]);
    expect(second!.map((a) => atob(a))).toEqual(["GET", "k"]);
    // Text that is UTF-8 but not ASCII goes as its bytes, base64 too (a tab is not printable either).
    await session.run([[utf8("SET"), utf8("é"), utf8("a\tb")]]);
    expect(sent.at(-1)).toEqual({ body: ["U0VU", btoa("\xc3\xa9"), btoa("a\tb")], encoding: "base64" });
  });

  it("fill --binary writes values of every byte value, the same for the same key", () => {
    const values = Array.from({ length: 8 }, (_, i) => fillValue(i, 512, true));
    expect(values.every((v) => v.length === 512)).toBe(true);
    expect(new Set(values.join("")).size).toBe(256);
    expect(fillValue(3, 512, true)).toBe(values[3]);
    expect(fillValue(3, 16)).toBe("value:3xxxxxxxxx");
  });
});

describe("the proxy's own replies", () => {
  it("read a client's bytes in an error text as UTF-8, as the server's errors are (HELLO's option, CLIENT's subcommand)", async () => {
    const session = new Session(new FlaredisHttp("http://x", "t", (async () => new Response("{}")) as unknown as typeof fetch), 1);
    const { replies } = await session.run([[utf8("HELLO"), utf8("2"), utf8("é")], [utf8("CLIENT"), utf8("ü")]]);
    expect(replies).toEqual([{ error: "ERR Syntax error in HELLO option 'é'" }, { error: "ERR unknown subcommand 'ü'. Try CLIENT HELP." }]);
  });
});
