#!/usr/bin/env node
// Small URL helpers for the shell scripts (no dependencies: runs before `pnpm install`).
//   url.mjs reachable <url> [timeoutMs]   exit 0 when a TCP connection to the URL's host:port succeeds
//   url.mjs with-db <url> <database>      the URL with its path replaced by /<database>
//   url.mjs get <url> host|port|user|db   one part of the URL (port defaults by scheme)
import net from "node:net";

const DEFAULT_PORTS = { "postgres:": 5432, "postgresql:": 5432, "redis:": 6379, "rediss:": 6379 };
const [command, raw, arg] = process.argv.slice(2);

function parse(value) {
  try {
    return new URL(value);
  } catch {
    console.error(`not a URL: ${value}`);
    process.exit(2);
  }
}

function hostOf(url) {
  return url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
}

function portOf(url) {
  return Number(url.port || DEFAULT_PORTS[url.protocol] || 0);
}

const url = parse(raw);
switch (command) {
  case "reachable": {
    const socket = net.connect({ host: hostOf(url), port: portOf(url) });
    const timer = setTimeout(() => {
      socket.destroy();
      process.exit(1);
    }, Number(arg ?? 2000));
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      process.exit(0);
    });
    socket.once("error", () => process.exit(1));
    break;
  }
  case "with-db":
    url.pathname = `/${arg}`;
    console.log(url.toString());
    break;
  case "get": {
    const parts = {
      host: hostOf(url),
      port: portOf(url),
      user: decodeURIComponent(url.username) || "postgres",
      db: decodeURIComponent(url.pathname.slice(1)),
    };
    if (!(arg in parts)) process.exit(2);
    console.log(parts[arg]);
    break;
  }
  default:
    console.error("usage: url.mjs reachable|with-db|get <url> [arg]");
    process.exit(2);
}
