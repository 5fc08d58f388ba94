import { spawnSync } from "child_process";
import { randomUUID } from "crypto";
import * as http from "http";
import WebSocket from "ws";
import { jupyterPython, jupyterStatus, sleep } from "./notebook-image";
import { ToolStatus } from "./tools";

/**
 * A small client for a running Jupyter Server, as JupyterLab talks to it: the REST API with
 * the token, a kernel's channels websocket (Jupyter's JSON messages) and a terminal's
 * websocket (terminado's ["stdin", text] messages).
 */

export const KERNEL_HINT =
  "install Debian's python3-jupyter-server, python3-ipykernel, python3-terminado and python3-boto3 " +
  "(apt-get install python3-jupyter-server python3-ipykernel python3-terminado python3-boto3)";

let kernelStatus: ToolStatus | undefined;

/** Jupyter Server (see jupyterStatus) whose python also runs kernels and terminals. */
export function jupyterKernelStatus(): ToolStatus {
  if (kernelStatus) return kernelStatus;
  const server = jupyterStatus();
  if (!server.available) return (kernelStatus = server);
  // The same python the start script's tests use.
  const python = jupyterPython()!;
  const run = spawnSync(python, ["-c", "import ipykernel, terminado"], { encoding: "utf8" });
  return (kernelStatus = run.status === 0 ? { available: true } : { available: false, problem: `${python} has Jupyter Server but not ipykernel and terminado` });
}

/** Polls `condition` every `everyMs` until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** An API request with the token; resolves with the status and the parsed JSON body. */
export function api(port: number, token: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: urlPath,
        headers: { Authorization: `token ${token}`, ...(data ? { "Content-Type": "application/json" } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.end(data);
  });
}

/** Messages received on a websocket, with a way to wait for one. */
class Inbox<T> {
  readonly received: T[] = [];
  private waiters: Array<() => void> = [];

  push(message: T): void {
    this.received.push(message);
    this.waiters.splice(0).forEach((wake) => wake());
  }

  /** `describe` tells, on a timeout, what came instead. */
  async waitFor(what: string, match: (message: T) => boolean, timeoutMs: number, describe: (message: T) => string = String): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.received.map(describe).join(", ") || "nothing"}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/**
 * Opens a websocket, handing every text message to `onMessage` from the start: the first
 * messages may arrive in the same packet as the handshake, before `open` is seen.
 */
function connect(url: string, onMessage: (text: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("message", (data, isBinary) => {
      if (!isBinary) onMessage(data.toString());
    });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Closes `socket` and resolves once it is closed (or after 5 s). */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 5000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close();
  });
}

/** A Jupyter message as the channels websocket carries it (JSON, no binary buffers). */
export interface KernelMessage {
  channel: string;
  header: { msg_id: string; msg_type: string; [key: string]: unknown };
  parent_header: { msg_id?: string; [key: string]: unknown };
  metadata: Record<string, unknown>;
  content: any;
}

export interface KernelChannels {
  messages: Inbox<KernelMessage>;
  /** Sends an execute_request; resolves with its msg_id (replies carry it as parent). */
  execute(code: string, options?: { allowStdin?: boolean }): string;
  /** Waits for a message of `msgType` answering the request `parentId`. */
  reply(parentId: string, msgType: string, timeoutMs?: number): Promise<KernelMessage>;
  close(): Promise<void>;
}

/** Starts a kernel of the server's default kernelspec; resolves with its id. */
export async function startKernel(port: number, token: string): Promise<string> {
  const reply = await api(port, token, "POST", "/api/kernels", {});
  if (reply.status !== 201) throw new Error(`starting a kernel answered ${reply.status}: ${JSON.stringify(reply.json)}`);
  return reply.json.id;
}

/** Opens the kernel's channels websocket, as a notebook tab does. */
export async function openKernel(port: number, token: string, kernelId: string): Promise<KernelChannels> {
  const session = randomUUID();
  const messages = new Inbox<KernelMessage>();
  const url = `ws://127.0.0.1:${port}/api/kernels/${kernelId}/channels?session_id=${session}&token=${token}`;
  const socket = await connect(url, (text) => messages.push(JSON.parse(text)));
  return {
    messages,
    execute(code, options = {}) {
      const msgId = randomUUID();
      socket.send(
        JSON.stringify({
          channel: "shell",
          header: { msg_id: msgId, msg_type: "execute_request", session, username: "test", version: "5.3", date: new Date().toISOString() },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: options.allowStdin ?? false, stop_on_error: true },
          buffers: [],
        }),
      );
      return msgId;
    },
    reply(parentId, msgType, timeoutMs = 20_000) {
      return messages.waitFor(`${msgType} for ${parentId}`, (m) => m.parent_header?.msg_id === parentId && m.header.msg_type === msgType,
        timeoutMs,
        (m) => `${m.channel} ${m.header.msg_type}${m.parent_header?.msg_id === parentId ? " (for it)" : ""}`,
      );
    },
    close: () => closeSocket(socket),
  };
}

export interface TerminalSocket {
  /** Everything the terminal printed so far. */
  output(): string;
  /** Types `text` (end a command with "\r"). */
  type(text: string): void;
  close(): Promise<void>;
}

/** Creates a terminal; resolves with its name. */
export async function startTerminal(port: number, token: string): Promise<string> {
  const reply = await api(port, token, "POST", "/api/terminals");
  if (reply.status !== 200 && reply.status !== 201) throw new Error(`creating a terminal answered ${reply.status}: ${JSON.stringify(reply.json)}`);
  return reply.json.name;
}

/** Opens the terminal's websocket, as a terminal tab does. */
export async function openTerminal(port: number, token: string, name: string): Promise<TerminalSocket> {
  let output = "";
  const socket = await connect(`ws://127.0.0.1:${port}/terminals/websocket/${name}?token=${token}`, (message) => {
    const [kind, text] = JSON.parse(message) as [string, unknown];
    if (kind === "stdout" && typeof text === "string") output += text;
  });
  return {
    output: () => output,
    type: (text) => socket.send(JSON.stringify(["stdin", text])),
    close: () => closeSocket(socket),
  };
}
