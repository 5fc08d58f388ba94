/**
 * The waker's pages: small, self-contained HTML. None of them repeats the address it was
 * asked for (the token may be in it): a reload reloads the browser's own address.
 */

export interface Page {
  readonly statusCode: number;
  readonly statusDescription: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]!));
}

/** What a page says, in its `X-Notebook-Waker` header: `npm run start` reads it while it waits. */
export type PageKind = "starting" | "asleep" | "ready" | "failed" | "token" | "sign-in" | "not-allowed" | "not-here" | "deleted" | "unavailable";
export const KIND_HEADER = "X-Notebook-Waker";

/** A page: `title`, paragraphs of plain text (escaped here), and a reload after `refreshSeconds` when given. */
export function page(kind: PageKind, statusCode: number, title: string, paragraphs: string[], refreshSeconds?: number): Page {
  const refresh = refreshSeconds === undefined ? "" : `<meta http-equiv="refresh" content="${refreshSeconds}">`;
  const body = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${refresh}`,
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5;color:#222}h1{font-size:1.4em}p.small{color:#666;font-size:.9em}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    refreshSeconds === undefined ? "" : `<p class="small">This page reloads itself every ${refreshSeconds} seconds.</p>`,
    "</body></html>",
  ].join("\n");
  const headers: Record<string, string> = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", [KIND_HEADER]: kind };
  if (statusCode === 503 && refreshSeconds !== undefined) headers["Retry-After"] = String(refreshSeconds);
  return { statusCode, statusDescription: `${statusCode} ${REASONS[statusCode] ?? ""}`.trim(), headers, body, isBase64Encoded: false };
}

/** Seconds between reloads while a notebook starts. */
export const RELOAD_SECONDS = 5;

export const pages = {
  starting: (what: string) =>
    page(
      "starting",
      503,
      "Starting your notebook",
      [what, "It stopped itself after a while without use. You need not do anything: Jupyter opens here when it is ready."],
      RELOAD_SECONDS,
    ),
  asleep: () =>
    page("asleep", 503, "This notebook is stopped", [
      "A request that is not a page opened in a browser (a tab left open polling it, a script) does not start it. Open its address in a browser tab, or run npm run start.",
    ]),
  ready: () => page("ready", 200, "Your notebook is ready", ["Opening it now."], 1),
  failed: (reason: string) =>
    page("failed", 503, "Your notebook could not start", [
      reason,
      "It has been stopped again, so it costs nothing. Reload this page to try again.",
      "To see why: npm run status, and the notebook's log group (its log_group_name output). npm run start, or a deploy, starts it and waits.",
    ]),
  tokenNeeded: () =>
    page("token", 401, "Open your notebook with its token", [
      "This notebook is stopped, and only its own address with the token starts it: the one npm run url prints.",
    ]),
  signInNeeded: () =>
    page("sign-in", 403, "Sign in through your notebook's address", [
      "This request did not come through the notebook's own sign-in, so it does not start the notebook. Open the notebook's address in a browser and sign in.",
    ]),
  notAllowed: () =>
    page("not-allowed", 403, "Not from this network", [
      "This notebook answers only the networks its owner allowed (allowed_cidrs). Connect from one of them, for example through your VPN.",
    ]),
  notHere: () =>
    page("not-here", 404, "No notebook here", ["There is no notebook of this environment at this address. Check the address, or deploy your notebook."]),
  deleted: () => page("deleted", 404, "This notebook was deleted", ["Its service no longer exists. Deploy it again (npx cdktf deploy)."]),
  unavailable: (reason: string) => page("unavailable", 502, "The notebook could not be reached", [reason, "Reload this page in a minute."]),
};
