import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as path from "path";
import { SettingsError } from "../stacks/settings";
import { NotebookStackSpec } from "../stacks/stack-specs";
import { findNotebookStack, managedAttributes, readStackState, TerraformState } from "./state";

/**
 * `npm run stop [-- <stack>]` and `npm run start [-- <stack>]`: stop a notebook now (its
 * service's desired count 0; everything else stays, as after an idle stop) or start it again
 * and wait until it answers, then print its URL. They call ECS directly with the caller's
 * credentials: seconds, where a deploy takes minutes. The stack defaults to `notebook`; an
 * administrator names a team stack (`notebook-dev-bob`). A later `deploy` starts a stopped
 * notebook too (its desired count is 1).
 */

/** How long start waits for the notebook to answer: a cold start pulls the image (an accelerated one may first launch an instance); as long as a deploy waits. */
export const START_TIMEOUT_MS = 20 * 60 * 1000;
const POLL_MS = 5_000;

export interface DeployedNotebook {
  readonly spec: NotebookStackSpec;
  readonly cluster: string;
  readonly service: string;
  /** `https://<hostname>/`, without the token. */
  readonly notebookUrl: string;
  /** With the token (sensitive). */
  readonly url: string;
  /** Its target group's ARN, when the state has it. */
  readonly targetGroupArn?: string;
  /** Whether its listener rule signs in at the load balancer (Cognito or OIDC) before Jupyter. */
  readonly signsIn: boolean;
}

/** The deployed notebook of a stack the caller may use, from its state. */
export function deployedNotebook(stackId: string, projectDir: string, env: Record<string, string | undefined>): DeployedNotebook {
  const spec = findNotebookStack(stackId, projectDir, env);
  const state: TerraformState | undefined = readStackState(spec, env);
  const service = managedAttributes(state, "aws_ecs_service");
  const url = state?.outputs?.url?.value;
  const notebookUrl = state?.outputs?.notebook_url?.value;
  if (!service || typeof url !== "string" || typeof notebookUrl !== "string") {
    throw new SettingsError(`${spec.id} of ${spec.user} is not deployed: deploy it first (npx cdktf deploy ${spec.id} --var-file=vars.tfvars)`);
  }
  const rule = managedAttributes(state, "aws_lb_listener_rule");
  const actions = (rule?.action as Array<{ type?: string }> | undefined) ?? [];
  const targetGroup = managedAttributes(state, "aws_lb_target_group")?.arn;
  return {
    spec,
    cluster: String(service.cluster),
    service: String(service.name),
    notebookUrl,
    url,
    ...(typeof targetGroup === "string" && targetGroup ? { targetGroupArn: targetGroup } : {}),
    signsIn: actions.some((a) => a.type === "authenticate-cognito" || a.type === "authenticate-oidc"),
  };
}

async function setDesiredCount(notebook: DeployedNotebook, desiredCount: number): Promise<void> {
  const region = notebook.cluster.startsWith("arn:") ? notebook.cluster.split(":")[3] : undefined;
  const ecs = new ECSClient({ region, maxAttempts: 3 });
  try {
    await ecs.send(new UpdateServiceCommand({ cluster: notebook.cluster, service: notebook.service, desiredCount }));
  } catch (err) {
    const e = err as Error & { name?: string };
    if (e.name === "AccessDeniedException") {
      throw new SettingsError(
        `AWS refused to change ${notebook.service} of ${notebook.spec.user}: you may start and stop only your own notebooks (README, Permissions)`,
      );
    }
    throw new SettingsError(`ECS did not change ${notebook.service}: ${e.message.split("\n")[0]}`);
  } finally {
    ecs.destroy();
  }
}

/** Stops the notebook now: desired count 0. */
export async function stopNotebook(notebook: DeployedNotebook): Promise<void> {
  await setDesiredCount(notebook, 0);
}

/** The header of the waker's pages (waker/pages.ts): which page answered. */
const WAKER_HEADER = "x-notebook-waker";

/**
 * Starts the notebook (desired count 1) and waits until it answers through the load balancer:
 * `/api` answers anything but 502/503/504. With sign-in at the load balancer, until its
 * target is healthy (waitUntilHealthy).
 * On a platform stack a sleeping notebook's URL reaches the waker first: its pages say what
 * they are (a header); the wait goes on until it says "ready", and ends with its reason when
 * it says the start failed. The token goes along, which a notebook without sign-in at the
 * load balancer needs to be woken.
 */
export async function startNotebook(notebook: DeployedNotebook, options: WaitOptions = {}): Promise<void> {
  await setDesiredCount(notebook, 1);
  if (notebook.signsIn && notebook.targetGroupArn) return waitUntilHealthy(notebook, notebook.targetGroupArn, options);
  const api = new URL("api", notebook.notebookUrl).toString();
  const token = new URL(notebook.url).searchParams.get("token");
  const request = token ? `${api}?token=${encodeURIComponent(token)}` : api;
  await waitFor(notebook, options, { waiting: `waiting for ${api}`, failed: "did not answer" }, async () => {
    try {
      const answer = await fetch(request, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      const waker = answer.headers.get(WAKER_HEADER);
      if (waker === "failed" || waker === "deleted") {
        throw new SettingsError(
          `${notebook.service} could not start, the waker says (${waker}): see npm run status, and the service's events in the ECS console`,
        );
      }
      if (waker === "not-allowed") {
        throw new SettingsError(
          `${notebook.service} answers only its allowed_cidrs, and this machine's address is not among them: it was started, but npm run start cannot wait for it from here`,
        );
      }
      if (waker ? waker === "ready" : ![502, 503, 504].includes(answer.status)) return undefined;
      return waker ? `the waker: ${waker}` : `HTTP ${answer.status}`;
    } catch (err) {
      if (err instanceof SettingsError) throw err;
      return (err as Error).message;
    }
  });
}

/**
 * With sign-in at the load balancer, every request without a sign-in cookie gets the same
 * redirect to the sign-in page, started or not: the wait asks the load balancer whether the
 * notebook's target is healthy instead (the caller may read its own target group's health).
 * Opened then, a URL a waker still holds reaches Jupyter after its "ready" page.
 */
async function waitUntilHealthy(notebook: DeployedNotebook, targetGroupArn: string, options: WaitOptions): Promise<void> {
  const elb = new ElasticLoadBalancingV2Client({ region: targetGroupArn.split(":")[3], maxAttempts: 3 });
  try {
    await waitFor(
      notebook,
      options,
      { waiting: `waiting for the load balancer's health check of ${notebook.service}`, failed: "was not healthy" },
      async () => {
        try {
          const states = ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions ?? []).map(
            (t) => t.TargetHealth?.State ?? "unknown",
          );
          if (states.includes("healthy")) return undefined;
          return states.length > 0 ? `its target: ${states.join(", ")}` : "no target yet";
        } catch (err) {
          return (err as Error).message.split("\n")[0];
        }
      },
    );
  } finally {
    elb.destroy();
  }
}

interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  progress?: (line: string) => void;
}

/**
 * Calls `probe` every pollMs until it returns undefined (done); otherwise what it returns is
 * the latest state, shown as progress (`<waiting> (<state>)`) and in the error once the time
 * limit passes (`<service> <failed> within N s (last: <state>)`).
 */
async function waitFor(
  notebook: DeployedNotebook,
  options: WaitOptions,
  words: { waiting: string; failed: string },
  probe: () => Promise<string | undefined>,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (last === undefined) return;
    if (Date.now() > deadline) {
      throw new SettingsError(
        `${notebook.service} ${words.failed} within ${Math.round(
          timeoutMs / 1000,
        )} s (last: ${last}): see npm run status, and the service's events in the ECS console`,
      );
    }
    options.progress?.(`${words.waiting} (${last})`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? POLL_MS));
  }
}

async function main(command: "start" | "stop", args: string[]): Promise<void> {
  if (args.length > 1 || args[0]?.startsWith("-")) {
    console.error(`usage: npm run ${command} [-- <stack id>]   (default stack: notebook)`);
    process.exit(2);
  }
  const notebook = deployedNotebook(args[0] ?? "notebook", path.resolve(__dirname, ".."), process.env);
  if (command === "stop") {
    await stopNotebook(notebook);
    console.error(`stopped ${notebook.spec.id} (${notebook.service}): it costs nothing until npm run start -- ${notebook.spec.id} or a deploy starts it again`);
    return;
  }
  console.error(`starting ${notebook.spec.id} (${notebook.service}); a cold start pulls the image, about a minute or more`);
  await startNotebook(notebook, { progress: (line) => console.error(line) });
  console.log(notebook.url);
}

if (require.main === module) {
  const command = process.argv[2];
  if (command !== "start" && command !== "stop") {
    console.error("usage: npm run start|stop [-- <stack id>]");
    process.exit(2);
  }
  main(command, process.argv.slice(3)).catch((err) => {
    if (!(err instanceof SettingsError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
