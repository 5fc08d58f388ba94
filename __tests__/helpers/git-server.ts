import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { sleep } from "./notebook-image";

/** Stand-ins for a git server that misbehaves, and checks on what a clone left behind. */

export interface StalledServer {
  port: number;
  /** `http://127.0.0.1:<port>/<name>.git`: what the start script is told to clone. */
  url(name: string): string;
  /** Connections accepted so far (a clone under way has at least one). */
  accepted(): number;
  /** Connections still open (git processes still waiting for an answer). */
  open(): number;
  /** Closes the server and every connection, so that no git process waits on it forever. */
  close(): Promise<void>;
}

/** A server on 127.0.0.1 that accepts connections, reads what comes and never answers. */
export async function stalledServer(): Promise<StalledServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/** Polls `condition` every 50 ms; rejects with `what` when it is still false after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Every file and directory under `dir` (relative paths, sorted), with the contents of files: to compare before and after. */
export function snapshot(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        result[`${name}/`] = "";
        walk(name);
      } else {
        result[name] = fs.readFileSync(path.join(dir, name)).toString("base64");
      }
    }
  };
  walk("");
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}
