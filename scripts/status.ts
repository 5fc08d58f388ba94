import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import * as path from "path";
import { requireUser, SettingsError } from "../stacks/settings";
import { NotebookStackSpec, notebookStackSpecs } from "../stacks/stack-specs";
import { managedAttributes, projectSettings, readStackState, TerraformState } from "./state";
import { describeSize, formatPrice, HOURS_PER_MONTH, hourlyPrice, HourlyPrice, Prices, readPrices, sizeOf } from "./cost";

/**
 * `npm run status [-- --all] [-- --offline]`: the current user's notebook stacks (with
 * --all, every team-file user's too), whether each has state, its hostname, and whether
 * its service is running or stopped (after an idle stop). Hostname and service come from
 * the state; only the running/stopped question asks ECS (one DescribeServices per
 * notebook), and --offline answers it from the state's last known desired count instead.
 * Each notebook's size and price per hour while it runs come from its state and
 * scripts/prices.json (scripts/cost.ts); --all adds the total per hour of those running and
 * a month at that rate.
 */
export interface StackStatus {
  stack: string;
  user: string;
  /** "no state", "not deployed", "running", "starting", "stopped (idle)", "desired N (from state)", or "unknown: ..." */
  status: string;
  hostname?: string;
  /** "1 vCPU 4 GiB", "g6.xlarge, 1 GPU (4 vCPU 14.25 GiB)". */
  size?: string;
  /** Its price per hour while it runs. */
  price?: HourlyPrice;
  /** Running or starting: it costs its price now. */
  running?: boolean;
}

export async function notebookStatus(
  projectDir: string,
  env: Record<string, string | undefined>,
  options: { all: boolean; offline: boolean },
): Promise<StackStatus[]> {
  const settings = projectSettings(projectDir, env);
  // Without --all, the current user's stacks: there must be a user.
  if (!options.all) requireUser(settings);
  const specs = notebookStackSpecs(settings).filter((s) => options.all || s.user === settings.user);
  const results: StackStatus[] = [];
  const prices = readPrices();
  for (const spec of specs) results.push(await stackStatus(spec, env, options.offline, prices));
  return results;
}

async function stackStatus(spec: NotebookStackSpec, env: Record<string, string | undefined>, offline: boolean, prices: Prices): Promise<StackStatus> {
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
  const size = sizeOf(state);
  const priced = size ? { size: describeSize(size), price: hourlyPrice(size, prices) } : {};
  if (offline) return { ...base, hostname, ...priced, status: `desired ${service.desired_count} (from state)`, running: Number(service.desired_count) > 0 };
  try {
    const status = await liveStatus(String(service.cluster), String(service.name));
    return { ...base, hostname, ...priced, status, running: status === "running" || status === "starting" };
  } catch (err) {
    return { ...base, hostname, ...priced, status: `unknown: ECS did not answer (${(err as Error).message.split("\n")[0]})` };
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

/** What a notebook costs per hour now: its price while running, 0 when stopped. */
function costNow(r: StackStatus): string {
  if (!r.price) return "-";
  if (r.running === false) return "0 (stopped)";
  return formatPrice(r.price);
}

export function formatTable(rows: StackStatus[]): string {
  const columns = ["stack", "user", "status", "size", "cost", "hostname"] as const;
  const header = { stack: "STACK", user: "USER", status: "STATUS", size: "SIZE", cost: "$/HOUR", hostname: "HOSTNAME" };
  const all = [
    header,
    ...rows.map((r) => ({ stack: r.stack, user: r.user, status: r.status, size: r.size ?? "-", cost: costNow(r), hostname: r.hostname ?? "-" })),
  ];
  const width = (key: (typeof columns)[number]) => Math.max(...all.map((r) => r[key].length));
  return all
    .map((r) =>
      columns
        .map((key, i) => (i === columns.length - 1 ? r[key] : r[key].padEnd(width(key))))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The team's cost now (--all): the running notebooks' prices per hour, and a month at that rate. */
export function formatTotals(rows: StackStatus[], prices: Prices): string {
  const running = rows.filter((r) => r.running && r.price);
  const known = running.filter((r) => r.price!.perHour !== undefined);
  const perHour = known.reduce((sum, r) => sum + r.price!.perHour!, 0);
  const estimate = known.some((r) => r.price!.estimate) ? "~" : "";
  const unknown = running.length - known.length;
  return [
    `Running: ${running.length} of ${rows.filter((r) => r.price).length} notebooks, ${estimate}$${perHour.toFixed(4)} per hour${
      unknown ? ` (and ${unknown} whose price is unknown)` : ""
    }.`,
    `A month at this rate (${HOURS_PER_MONTH} h): ${estimate}$${(perHour * HOURS_PER_MONTH).toFixed(2)}. Prices of ${
      prices.date
    } (scripts/prices.json); ~ marks Fargate Spot estimates; stopped notebooks' storage, logs and secrets are not counted.`,
  ].join("\n");
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--all" && a !== "--offline");
  if (unknown.length > 0) {
    console.error(`usage: npm run status [-- --all] [-- --offline]   (unknown: ${unknown.join(" ")})`);
    process.exit(2);
  }
  notebookStatus(path.resolve(__dirname, ".."), process.env, { all: args.includes("--all"), offline: args.includes("--offline") })
    .then((rows) => console.log(args.includes("--all") ? `${formatTable(rows)}\n\n${formatTotals(rows, readPrices())}` : formatTable(rows)))
    .catch((err) => {
      if (!(err instanceof SettingsError)) throw err;
      console.error(`error: ${err.message}`);
      process.exit(1);
    });
}
