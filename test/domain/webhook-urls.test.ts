import { describe, expect, it } from "vitest";
import { nonPublicV4, nonPublicV6, webhookUrlProblem } from "../../src/domain/webhook-urls";

const deployed = { allowLoopback: false };
const dev = { allowLoopback: true };

describe("webhook URL rules", () => {
  it("accepts https URLs on public hosts and public IP literals", () => {
    for (const url of [
      "https://example.com/webhooks",
      "https://hooks.example.co.uk:8443/a/b?c=d",
      "https://8.8.8.8/hook",
      "https://[2606:4700:4700::1111]/hook",
      "https://[::ffff:8.8.8.8]/hook",
      "https://example.com./hook",
    ]) {
      expect(webhookUrlProblem(url, deployed), url).toBeNull();
    }
  });

  it("refuses other schemes, credentials, relative and overlong URLs", () => {
    expect(webhookUrlProblem("http://example.com/hook", deployed)).toBe("must be https");
    expect(webhookUrlProblem("ftp://example.com/hook", deployed)).toBe("must be https");
    expect(webhookUrlProblem("javascript:alert(1)", deployed)).toBe("must be https");
    expect(webhookUrlProblem("/relative", deployed)).toMatch(/absolute URL/);
    expect(webhookUrlProblem("https://user:pass@example.com/hook", deployed)).toMatch(/credentials/);
    expect(webhookUrlProblem("https://user@example.com/hook", deployed)).toMatch(/credentials/);
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(1_980)}`, deployed)).toBeNull();
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(1_981)}`, deployed)).toMatch(/at most 2000/);
  });

  it("refuses IPv4 literals in private, loopback, link-local, CGNAT and unspecified ranges, however they are spelled", () => {
    for (const [url, kind] of [
      ["https://10.1.2.3/", "private"],
      ["https://172.16.0.1/", "private"],
      ["https://172.31.255.255/", "private"],
      ["https://192.168.1.1/", "private"],
      ["https://127.0.0.1/", "loopback"],
      ["https://127.1/", "loopback"],
      ["https://2130706433/", "loopback"],
      ["https://0x7f.0.0.1/", "loopback"],
      ["https://0177.0.0.1/", "loopback"],
      ["https://169.254.169.254/latest/meta-data", "link-local"],
      ["https://100.64.0.1/", "shared (CGNAT)"],
      ["https://100.127.255.254/", "shared (CGNAT)"],
      ["https://0.0.0.0/", "unspecified"],
      ["https://224.0.0.1/", "multicast"],
    ]) {
      expect(webhookUrlProblem(url!, deployed), url).toBe(`must not point at a ${kind} address`);
    }
    // Just outside the ranges.
    expect(webhookUrlProblem("https://172.32.0.1/", deployed)).toBeNull();
    expect(webhookUrlProblem("https://100.128.0.1/", deployed)).toBeNull();
    expect(webhookUrlProblem("https://11.0.0.1/", deployed)).toBeNull();
  });

  it("refuses IPv6 literals that are loopback, unspecified, link-local, unique-local, or embed a non-public IPv4 address", () => {
    for (const [url, kind] of [
      ["https://[::1]/", "loopback"],
      ["https://[::]/", "unspecified"],
      ["https://[fe80::1]/", "link-local"],
      ["https://[fc00::1]/", "unique-local"],
      ["https://[fd12:3456:789a::1]/", "unique-local"],
      ["https://[::ffff:127.0.0.1]/", "IPv4-mapped non-public"],
      ["https://[::ffff:10.0.0.1]/", "IPv4-mapped non-public"],
      ["https://[::ffff:a9fe:a9fe]/", "IPv4-mapped non-public"],
      ["https://[::127.0.0.1]/", "IPv4-mapped non-public"],
      ["https://[64:ff9b::192.168.0.1]/", "NAT64 of a non-public address"],
      ["https://[2002:c0a8:0101::1]/", "6to4 of a non-public address"],
      ["https://[ff02::1]/", "multicast"],
    ]) {
      expect(webhookUrlProblem(url!, deployed), url).toBe(`must not point at a ${kind} address`);
    }
  });

  it("refuses local and internal host names", () => {
    for (const url of [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://printer.local/",
      "https://db.internal/",
      "https://router.home.arpa/",
    ]) {
      expect(webhookUrlProblem(url, deployed), url).toMatch(/local or internal host name/);
    }
    expect(webhookUrlProblem("https://intranet/", deployed)).toMatch(/public host/);
  });

  it("lets http loopback URLs with a port through only with the development setting", () => {
    for (const url of ["http://127.0.0.1:8788/hook", "http://localhost:9000/", "http://[::1]:3000/x"]) {
      expect(webhookUrlProblem(url, dev), url).toBeNull();
      expect(webhookUrlProblem(url, deployed), url).toBe("must be https");
    }
    expect(webhookUrlProblem("http://127.0.0.1/hook", dev)).toMatch(/port/);
    // The setting opens loopback over http, nothing else.
    expect(webhookUrlProblem("http://example.com:8080/", dev)).toMatch(/must be https/);
    expect(webhookUrlProblem("http://10.0.0.1:8080/", dev)).toMatch(/must be https/);
    expect(webhookUrlProblem("https://10.0.0.1:8080/", dev)).toBe("must not point at a private address");
  });

  it("classifies addresses", () => {
    expect(nonPublicV4("8.8.8.8")).toBeNull();
    expect(nonPublicV4("192.168.0.1")).toBe("private");
    expect(nonPublicV6("2606:4700::1")).toBeNull();
    expect(nonPublicV6("0:0:0:0:0:0:0:1")).toBe("loopback");
    expect(nonPublicV6("not:an:address")).toBe("malformed");
  });
});
