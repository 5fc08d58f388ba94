import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import * as path from "path";
import { requireUser, SettingsError } from "../stacks/settings";
import { NotebookStackSpec, notebookStackSpecs } from "../stacks/stack-specs";
import { managedAttributes, projectSettings, readStackState, TerraformState } from "./state";

/**
 * `npm run status [-- --all] [-- --offline]`: the current user's notebook stacks (with
 * --all, every team-file user's too), whether each has state, its hostname, and whether
 * its service is running or stopped (after an idle stop). Hostname and service come from
 * the state; only the running/stopped question asks ECS (one DescribeServices per
 * notebook), and --offline answers it from the state's last known desired count instead.
 */
export interface StackStatus {
  stack: string;
  user: string;
  /** "no state", "not deployed", "running", "starting", "stopped (idle)", "desired N (from state)", or "unknown: ..." */
  status: string;
  hostname?: string;
}

export async function notebookStatus(projectDir: string, env: Record<string, string | undefined>, options: { all: boolean; offline: boolean }): Promise<StackStatus[]> {
  const settings = projectSettings(projectDir, env);
  // Without --all, the current user's stacks: there must be a user.
  if (!options.all) requireUser(settings);
  const specs = notebookStackSpecs(settings).filter((s) => options.all || s.user === settings.user);
  const results: StackStatus[] = [];
  for (const spec of specs) results.push(await stackStatus(spec, env, options.offline));
  return results;
}

async function stackStatus(spec: NotebookStackSpec, env: Record<string, string | undefined>, offline: boolean): Promise<StackStatus> {
  const base = { stack: spec.id, user: spec.user };
  let state: TerraformState | undefined;
  try {
    state = readStackState(spec, env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    return { ...base, status: `unknown: ${err.message}` };
  }
  if (!state) return { ...base, status: "no state" };
  const service = managedAttributes(state, "aws_ecs_service");
  const hostname = typeof state.outputs?.hostname?.value === "string" ? (state.outputs.hostname.value as string) : undefined;
  if (!service) return { ...base, hostname, status: "not deployed" };
  if (offline) return { ...base, hostname, status: `desired ${service.desired_count} (from state)` };
  try {
    return { ...base, hostname, status: await liveStatus(String(service.cluster), String(service.name)) };
  } catch (err) {
    return { ...base, hostname, status: `unknown: ECS did not answer (${(err as Error).message.split("\n")[0]})` };
  }
}

async function liveStatus(clusterArn: string, serviceName: string): Promise<string> {
  const region = clusterArn.startsWith("arn:") ? clusterArn.split(":")[3] : undefined;
  const ecs = new ECSClient({ region, maxAttempts: 2 });
  try {
    const answer = await ecs.send(new DescribeServicesCommand({ cluster: clusterArn, services: [serviceName] }));
    const found = answer.services?.[0];
    if (!found || found.status === "INACTIVE") return "service gone (deleted outside Terraform?)";
    if ((found.desiredCount ?? 0) === 0) return "stopped (idle)";
    return (found.runningCount ?? 0) > 0 ? "running" : "starting";
  } finally {
    ecs.destroy();
  }
}

function formatTable(rows: StackStatus[]): string {
  const header = { stack: "STACK", user: "USER", status: "STATUS", hostname: "HOSTNAME" };
  const all = [header, ...rows.map((r) => ({ ...r, hostname: r.hostname ?? "-" }))];
  const width = (key: "stack" | "user" | "status") => Math.max(...all.map((r) => r[key].length));
  return all.map((r) => `${r.stack.padEnd(width("stack"))}  ${r.user.padEnd(width("user"))}  ${r.status.padEnd(width("status"))}  ${r.hostname}`.trimEnd()).join("\n");
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--all" && a !== "--offline");
  if (unknown.length > 0) {
    console.error(`usage: npm run status [-- --all] [-- --offline]   (unknown: ${unknown.join(" ")})`);
    process.exit(2);
  }
  notebookStatus(path.resolve(__dirname, ".."), process.env, { all: args.includes("--all"), offline: args.includes("--offline") })
    .then((rows) => console.log(formatTable(rows)))
    .catch((err) => {
      if (!(err instanceof SettingsError)) throw err;
      console.error(`error: ${err.message}`);
      process.exit(1);
    });
}
