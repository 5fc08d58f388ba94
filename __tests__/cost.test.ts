import * as fs from "fs";
import { describeSize, formatPrice, hourlyPrice, NotebookSize, PRICES_FILE, readPrices, sizeOf } from "../scripts/cost";
import { formatTable, formatTotals, StackStatus } from "../scripts/status";
import { INSTANCE_TYPES } from "../modules/accelerators/instance-types";

// What `npm run status` says a notebook costs: its size read from its state as Terraform
// writes it, and scripts/prices.json. The expected figures are worked out by hand here.

const prices = readPrices();
const US = "arn:aws:ecs:us-east-1:111122223333:cluster/jupyter-notebooks-dev";

/** A notebook stack's state: its task definition and service, as Terraform records them. */
function state(options: { cpu: number; memory: number; providers?: string[]; cluster?: string; arm?: boolean; gpus?: number }) {
  const containers = [{ name: "notebook", resourceRequirements: options.gpus ? [{ type: "GPU", value: String(options.gpus) }] : null }];
  return {
    resources: [
      {
        mode: "managed",
        type: "aws_ecs_task_definition",
        name: "notebook_task_definition",
        instances: [
          {
            attributes: {
              cpu: String(options.cpu),
              memory: String(options.memory),
              container_definitions: JSON.stringify(containers),
              runtime_platform: options.arm ? [{ cpu_architecture: "ARM64" }] : [],
            },
          },
        ],
      },
      {
        mode: "managed",
        type: "aws_ecs_service",
        name: "notebook_service",
        instances: [
          {
            attributes: {
              cluster: options.cluster ?? US,
              capacity_provider_strategy: (options.providers ?? []).map((p) => ({ capacity_provider: p, weight: 1 })),
            },
          },
        ],
      },
    ],
  };
}
const price = (s: ReturnType<typeof state>) => formatPrice(hourlyPrice(sizeOf(s)!, prices));

test("Fargate on demand: vCPUs × the vCPU-hour price + GiB × the GB-hour price of its region", () => {
  // 1 × 0.04048 + 4 × 0.004445 = 0.05826
  expect(price(state({ cpu: 1024, memory: 4096 }))).toBe("$0.0583");
  expect(hourlyPrice(sizeOf(state({ cpu: 1024, memory: 4096 }))!, prices).perHour).toBeCloseTo(0.05826, 8);
  // ARM: 1 × 0.03238 + 2 × 0.00356 = 0.0395
  expect(price(state({ cpu: 1024, memory: 2048, arm: true }))).toBe("$0.0395");
  expect(describeSize(sizeOf(state({ cpu: 512, memory: 1024 }))!)).toBe("0.5 vCPU 1 GiB");
});

test("each region at its own prices: the region of the notebook's cluster picks them", () => {
  const in_ = (region: string, arm = false) => price(state({ cpu: 1024, memory: 4096, arm, cluster: `arn:aws:ecs:${region}:111122223333:cluster/x` }));
  // 1 × 0.04656 + 4 × 0.00511 = 0.067
  expect(in_("eu-central-1")).toBe("$0.0670");
  // 1 × 0.05056 + 4 × 0.00553 = 0.07268
  expect(in_("ap-southeast-1")).toBe("$0.0727");
  // 1 × 0.0696 + 4 × 0.0076 = 0.1; ARM: 1 × 0.0557 + 4 × 0.00612 = 0.08018
  expect([in_("sa-east-1"), in_("sa-east-1", true)]).toEqual(["$0.1000", "$0.0802"]);
});

test("Fargate Spot: the on-demand price less the estimated 70 %, marked as an estimate", () => {
  // (2 × 0.04048 + 8 × 0.004445) × 0.3 = 0.11652 × 0.3 = 0.034956
  const s = state({ cpu: 2048, memory: 8192, providers: ["FARGATE_SPOT"] });
  expect(describeSize(sizeOf(s)!)).toBe("Spot 2 vCPU 8 GiB");
  expect(price(s)).toBe("~$0.0350");
});

test("an accelerated notebook: its instance's price, times its share of the instance's vCPUs", () => {
  const whole = state({ cpu: 4096, memory: 14592, providers: ["jupyter-gpu-a1b2c3-g6-xlarge"], gpus: 1 });
  expect(describeSize(sizeOf(whole)!)).toBe("g6.xlarge, 1 GPU (4 vCPU 14.25 GiB)");
  expect(price(whole)).toBe("$0.8050");
  // 2 of g5.12xlarge's 4 GPUs with half its 48 vCPUs: 5.672 / 2
  const half = state({ cpu: 24576, memory: 88320, providers: ["jupyter-gpu-a1b2c3-g5-12xlarge"], gpus: 2 });
  expect(sizeOf(half)).toMatchObject({ capacity: "instance", instanceType: "g5.12xlarge", gpus: 2, vcpu: 24 });
  expect(price(half)).toBe("$2.8360");
});

test("a type or region the prices file lacks: 'price unknown', never a figure", () => {
  expect(price(state({ cpu: 8192, memory: 29440, providers: ["jupyter-gpu-a1b2c3-g6-2xlarge"] }))).toBe("price unknown (g6.2xlarge in us-east-1)");
  expect(price(state({ cpu: 1024, memory: 4096, cluster: "arn:aws:ecs:ap-south-2:111122223333:cluster/x" }))).toBe("price unknown (Fargate in ap-south-2)");
  // A region known for x86 only: an ARM notebook there has no figure.
  expect(price(state({ cpu: 1024, memory: 4096, arm: true, cluster: "arn:aws:ecs:eu-west-2:111122223333:cluster/x" }))).toBe(
    "price unknown (Fargate arm64 in eu-west-2)",
  );
  expect(price(state({ cpu: 4096, memory: 14592, providers: ["jupyter-gpu-a1b2c3-g6-xlarge"], cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/x" }))).toBe(
    "price unknown (g6.xlarge in eu-west-1)",
  );
});

test("the table: a stopped notebook costs 0 now; --all's total counts the running ones and a month at that rate", () => {
  const row = (stack: string, s: ReturnType<typeof state>, running: boolean): StackStatus => {
    const size: NotebookSize = sizeOf(s)!;
    return { stack, user: stack, status: running ? "running" : "stopped (idle)", size: describeSize(size), price: hourlyPrice(size, prices), running };
  };
  const rows = [
    row("alice", state({ cpu: 1024, memory: 4096 }), true),
    row("bob", state({ cpu: 2048, memory: 8192, providers: ["FARGATE_SPOT"] }), true),
    row("carol", state({ cpu: 4096, memory: 14592, providers: ["jupyter-gpu-a1b2c3-g6-xlarge"] }), false),
    row("dave", state({ cpu: 8192, memory: 29440, providers: ["jupyter-gpu-a1b2c3-g6-2xlarge"] }), true),
  ];
  const table = formatTable(rows).split("\n");
  expect(table[0]).toMatch(/^STACK\s+USER\s+STATUS\s+SIZE\s+\$\/HOUR\s+HOSTNAME$/);
  expect(table[3]).toMatch(/^carol\s+carol\s+stopped \(idle\)\s+g6\.xlarge \(4 vCPU 14\.25 GiB\)\s+0 \(stopped\)\s+-$/);
  // 0.05826 + 0.034956 = 0.093216 per hour; × 730 = 68.04768
  expect(formatTotals(rows, prices).split("\n")).toEqual([
    "Running: 3 of 4 notebooks, ~$0.0932 per hour (and 1 whose price is unknown).",
    `A month at this rate (730 h): ~$68.05. Prices of ${prices.date} (scripts/prices.json); ~ marks Fargate Spot estimates; stopped notebooks' storage, logs and secrets are not counted.`,
  ]);
});

test("scripts/prices.json says where its figures come from and when, and prices only instance types this project knows", () => {
  expect(prices.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(prices.fargate.source).toMatch(/aws\.amazon\.com\/fargate\/pricing/);
  expect(prices.instances.source).toMatch(/Price List API/);
  expect(prices.fargate.spotDiscountEstimate).toBeGreaterThan(0);
  expect(prices.fargate.spotDiscountEstimate).toBeLessThan(1);
  for (const [region, types] of Object.entries(prices.instances.regions)) {
    expect(region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
    for (const [type, perHour] of Object.entries(types)) expect([type, type in INSTANCE_TYPES, perHour > 0]).toEqual([type, true, true]);
  }
  for (const [region, rates] of Object.entries(prices.fargate.regions)) {
    expect(region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
    // Each region: x86 at least, ARM where a source gave it, where its figures come from, and nothing else.
    expect(Object.keys(rates).filter((k) => !["x86_64", "arm64", "source"].includes(k))).toEqual([]);
    expect(rates.x86_64).toBeDefined();
    for (const r of [rates.x86_64, rates.arm64].filter((r) => r !== undefined)) {
      // Plausible figures: cents per vCPU-hour, a tenth of that or less per GB-hour.
      expect([r!.vcpuHour > 0.02 && r!.vcpuHour < 0.1, r!.gbHour > 0.002 && r!.gbHour < r!.vcpuHour / 5]).toEqual([true, true]);
    }
    expect(rates.source.length).toBeGreaterThan(20);
  }
  // One line per region: updating a region's prices is a one-line change.
  const lines = fs.readFileSync(PRICES_FILE, "utf8").split("\n");
  for (const region of Object.keys(prices.fargate.regions)) expect(lines.filter((l) => l.trimStart().startsWith(`"${region}": { "x86_64"`))).toHaveLength(1);
});
