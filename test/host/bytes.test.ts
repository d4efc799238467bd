/** The OS-string codec (src/host/bytes.ts): bytes that are not UTF-8 survive a round trip. */
import { describe, expect, test } from "bun:test";
import {
  osByteLength,
  osBytes,
  osEnvEntry,
  osPath,
  osString,
  quoteOs,
  rawArgs,
  splitNul,
} from "../../src/host/bytes.ts";

const b = (...xs: number[]) => Uint8Array.from(xs);
const roundTrip = (x: Uint8Array) => expect([...osBytes(osString(x))]).toEqual([...x]);

describe("osString / osBytes", () => {
  test("valid UTF-8 decodes as TextDecoder does, with no escapes", () => {
    for (const s of ["", "plain", "café", "日本語", "emoji \u{1F600}", "\u{10080}", "\uFFFD"]) {
      const bytes = new TextEncoder().encode(s);
      expect(osString(bytes)).toBe(s);
      expect([...osBytes(s)]).toEqual([...bytes]);
    }
  });

  test("each byte that is not UTF-8 becomes U+DC80..U+DCFF and back", () => {
    expect(osString(b(0xff, 0xfe))).toBe("\uDCFF\uDCFE");
    expect(osString(b(0x63, 0x61, 0x66, 0xe9))).toBe("caf\uDCE9");
    expect([...osBytes("caf\uDCE9")]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    // A valid sequence right after an invalid byte is kept.
    expect(osString(b(0xe9, 0xc3, 0xa9))).toBe("\uDCE9é");
  });

  test("ill-formed sequences are escaped byte by byte (surrogates, overlongs, beyond U+10FFFF, truncated)", () => {
    for (const x of [
      b(0xed, 0xa0, 0x80), // an encoded surrogate (WTF-8)
      b(0xc0, 0x80), // overlong NUL
      b(0xe0, 0x80, 0xaf), // overlong
      b(0xf4, 0x90, 0x80, 0x80), // beyond U+10FFFF
      b(0xe2, 0x82), // truncated
      b(0x80),
      b(0xf8, 0x88, 0x80, 0x80, 0x80),
    ]) {
      const s = osString(x);
      expect(s).toBe(String.fromCharCode(...[...x].map((c) => 0xdc00 + c)));
      roundTrip(x);
    }
  });

  test("every single byte and many random strings round-trip exactly", () => {
    for (let c = 1; c < 256; c++) roundTrip(b(c));
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const n = rnd() % 12;
      // Biased towards bytes that make (in)valid multi-byte sequences.
      const x = Uint8Array.from({ length: n }, () => (rnd() % 3 === 0 ? rnd() % 128 : 0x80 + (rnd() % 128)));
      roundTrip(x);
    }
  });

  test("a surrogate pair whose low half is in U+DC80..U+DCFF is a character, not a byte", () => {
    expect([...osBytes("\uD800\uDC80")]).toEqual([0xf0, 0x90, 0x82, 0x80]);
    expect([...osBytes("\uD800\uDC80\uDCFF")]).toEqual([0xf0, 0x90, 0x82, 0x80, 0xff]);
  });

  test("other lone surrogates are encoded as U+FFFD, as TextEncoder does", () => {
    expect([...osBytes("\uD800x\uDCFF")]).toEqual([0xef, 0xbf, 0xbd, 0x78, 0xff]);
    expect([...osBytes("\uDC10")]).toEqual([0xef, 0xbf, 0xbd]);
  });

  test("osPath, osByteLength, quoteOs", () => {
    expect(osPath("/plain")).toBe("/plain");
    const p = osPath("/caf\uDCE9");
    expect(Buffer.isBuffer(p)).toBe(true);
    expect([...(p as Buffer)]).toEqual([0x2f, 0x63, 0x61, 0x66, 0xe9]);
    expect(osByteLength("caf\uDCE9")).toBe(4);
    expect(osByteLength("café")).toBe(5);
    expect(quoteOs("/caf\uDCE9")).toBe('"/caf\\xe9"');
    expect(quoteOs('a"b')).toBe('"a\\"b"');
  });

  test("splitNul keeps empty entries and escapes bytes", () => {
    expect(splitNul(b(0x61, 0, 0, 0xff, 0))).toEqual(["a", "", "\uDCFF"]);
    expect(splitNul(b(0x61, 0, 0x62))).toEqual(["a", "b"]);
  });
});

describe("raw argv and environment", () => {
  test("without a U+FFFD, Bun's own strings are used (nothing is read)", () => {
    expect(rawArgs(["bun", "main", "exec", "--", "x"])).toEqual(["exec", "--", "x"]);
    expect(osEnvEntry("LANG", "C.UTF-8")).toEqual(["LANG", "C.UTF-8"]);
  });

  test("a U+FFFD that /proc/self does not explain is kept as it is", () => {
    expect(rawArgs(["bun", "main", "not-in-cmdline-\uFFFD"])).toEqual(["not-in-cmdline-\uFFFD"]);
    expect(osEnvEntry("NOT_IN_ENVIRON", "\uFFFD")).toEqual(["NOT_IN_ENVIRON", "\uFFFD"]);
  });
});
