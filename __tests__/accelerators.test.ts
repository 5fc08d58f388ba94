import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_IMAGE, NEURON_IMAGE, NEURON_IMAGE_TAG, NEURON_START_COMMAND, NVIDIA_IMAGE } from "../modules/accelerators/images";
import { Testing } from "cdktf";
import { acceleratorsStackSpecs } from "../stacks/stack-specs";
import { AcceleratorsStack } from "../stacks/accelerators-stack";
import { decide } from "./helpers/iam";
import { settingsFor, synthStack } from "./helpers/synth";
import {
  describeVarsCases,
  describeWithTerraform,
  evaluateExpressions,
  initVariablesDir,
  planVars,
  oneLine,
  RejectedVarsCase,
  removeDir,
  renderPolicies,
  TerraformResult,
  tfvars,
} from "./helpers/terraform";
import { OLD_VARS, Vars } from "./helpers/vars";

/**
 * Accelerated notebooks, in an environment whose capacity comes from an `accelerators-<env>`
 * stack: the vars file's accelerator, instance type, GPU count and size, evaluated by the
 * real terraform into what the task definition and service get (compatibility, placement,
 * devices, size, image, command, network), and every impossible combination refused at plan
 * time with a message naming its variables. Figures below are worked out by hand from AWS's
 * instance sizes and the README's rule (90 % of an instance's memory, in steps of 256 MiB, is
 * left to tasks), not read back from the code's table.
 */

const TEAM_IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/cuda-notebook";
const GINA_IMAGE = "ghcr.io/gina/notebook";
const ENVIRONMENTS = { gpu: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", accelerators: true } };
/** The old configuration's file without its Fargate size, which an accelerated notebook leaves to the instance. */
const BASE: Vars = { ...OLD_VARS, cpu: null, memory: null };
/** What the accelerators-gpu stack's state offers: instance type => capacity provider (its output). */
/** The team's cluster, as the accelerators stack looks it up; the capacity's names carry 6 hex digits of its ARN's SHA-1. */
const CLUSTER_ARN = "arn:aws:ecs:eu-west-1:111122223333:cluster/data-science";
const CLUSTER_HASH = createHash("sha1").update(CLUSTER_ARN).digest("hex").slice(0, 6);
const providerName = (type: string) => `jupyter-gpu-${CLUSTER_HASH}-${type.replace(".", "-")}`;
const OFFERED: Record<string, string> = Object.fromEntries(
  ["g6.xlarge", "g5.12xlarge", "inf2.xlarge", "inf2.24xlarge"].map((type) => [type, providerName(type)]),
);

const hclMap = (map: Record<string, string>) =>
  `{ ${Object.entries(map)
    .map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`)
    .join(", ")} }`;
/** A synthesized value as an HCL expression: the inside of "${...}", or a literal (a team member's) as JSON. */
function inner(value: unknown): string {
  if (typeof value === "string") return /^\$\{[\s\S]*\}$/.test(value) ? value.slice(2, -1) : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inner).join(", ")}]`;
  return JSON.stringify(value);
}
const expression = (value: unknown) => `\${${inner(value)}}`;

/**
 * The task definition's and service's values that depend on the vars file, as expressions
 * terraform can evaluate with only the variable blocks and the stack's locals: the
 * accelerators state's output becomes `offered`, every other resource reference a string.
 */
/** Where the accelerators-gpu stack's state says its capacity is (its cluster_name and subnet_ids outputs). */
interface Placement {
  cluster: string;
  subnets: string[];
}
const PLACEMENT: Placement = { cluster: OLD_VARS.ecs_cluster_name as string, subnets: OLD_VARS.fargate_subnets as string[] };

function computeExpressions(json: any, offered: Record<string, string>, placement: Placement = PLACEMENT) {
  const task = Object.values<any>(json.resource.aws_ecs_task_definition)[0];
  const service = Object.values<any>(json.resource.aws_ecs_service)[0];
  const strategy = service.dynamic.capacity_provider_strategy[0];
  const expressions = {
    requires_compatibilities: expression(task.requires_compatibilities),
    // The provider's cpu and memory are strings; Terraform converts a number given there.
    cpu: `\${tostring(${inner(task.cpu)})}`,
    memory: `\${tostring(${inner(task.memory)})}`,
    container: `\${jsondecode(${inner(task.container_definitions)})}`,
    ephemeral_storage_blocks: `\${length(${inner(task.dynamic.ephemeral_storage[0].for_each)})}`,
    launch_type: `\${coalesce(${inner(service.launch_type)}, "none")}`,
    capacity_providers: expression(strategy.for_each),
    assign_public_ip: expression(service.network_configuration.assign_public_ip),
    // A Fargate member of a team file has no capacity to check: no precondition.
    capacity_check: expression(service.lifecycle?.precondition[0].condition ?? true),
    capacity_message: service.lifecycle?.precondition[0].error_message ?? "",
    ...placementExpressions(service, "cluster", "ecs_cluster_name is"),
    ...placementExpressions(service, "subnets", "fargate_subnets has"),
  };
  expect(strategy.content.capacity_provider).toBe("${capacity_provider_strategy.value}");
  const replacements: Array<[RegExp, string]> = [
    [/data\.terraform_remote_state\.accelerators_state_[0-9A-F]{8}\[0\]\.outputs\.accelerator_capacity_providers/g, hclMap(offered)],
    [/data\.terraform_remote_state\.accelerators_state_[0-9A-F]{8}\[0\]\.outputs\.capacity_cluster_name/g, JSON.stringify(placement.cluster)],
    [/data\.terraform_remote_state\.accelerators_state_[0-9A-F]{8}\[0\]\.outputs\.capacity_subnet_ids/g, JSON.stringify(placement.subnets)],
    // The cluster the notebook looks up by its name.
    [/data\.aws_ecs_cluster\.platform_cluster_[0-9A-F]{8}\.cluster_name/g, "var.ecs_cluster_name"],
    [/((?:data\.)?(?:aws|random)_[a-z0-9_]+)\.([A-Za-z0-9_]+?)_[0-9A-F]{8}\[\*\]\.([a-z_]+)/g, '["<$1.$2[*].$3>"]'],
    [/((?:data\.)?(?:aws|random)_[a-z0-9_]+)\.([A-Za-z0-9_]+?)_[0-9A-F]{8}\.([a-z_]+)/g, '"<$1.$2.$3>"'],
  ];
  const locals = JSON.parse(JSON.stringify(json.locals ?? {}), (_key, value) =>
    typeof value === "string" ? replacements.reduce((text, [pattern, hcl]) => text.replace(pattern, hcl), value) : value,
  );
  return { expressions, replacements, locals };
}

/** The condition and message of the service's placement precondition whose message starts with `start` (absent: nothing to check). */
function placementExpressions(service: any, name: string, start: string): Record<string, string> {
  const check = (service.lifecycle?.precondition ?? []).find((p: any) => String(p.error_message).includes(start));
  return { [`${name}_check`]: expression(check?.condition ?? true), [`${name}_message`]: check?.error_message ?? "" };
}

async function evaluateCompute(json: any, vars: Vars, offered = OFFERED, placement = PLACEMENT): Promise<Record<string, any>> {
  const { expressions, replacements, locals } = computeExpressions(json, offered, placement);
  return evaluateExpressions(expressions, { replacements, locals, variables: json.variable, varsText: tfvars(vars) });
}

/** The accelerators-gpu stack, as the app synthesizes it. */
function synthAcceleratorsStack(): { json: any } {
  const spec = acceleratorsStackSpecs(settingsFor({}, ENVIRONMENTS)).find((s) => s.stackId === "accelerators-gpu")!;
  return { json: JSON.parse(Testing.synth(new AcceleratorsStack(Testing.app(), spec))) };
}

const container = (values: Record<string, any>) => (values.container as any[])[0];

describeWithTerraform("an accelerated notebook's task definition and service, evaluated by terraform", () => {
  const { json } = synthStack("notebook-gpu", settingsFor({}, ENVIRONMENTS));
  const results: Record<string, Record<string, any>> = {};
  const cases: Record<string, [Vars, Record<string, string>?, Placement?]> = {
    fargate: [BASE],
    nvidia: [{ ...BASE, accelerator: "nvidia" }],
    "nvidia half of g5.12xlarge": [{ ...BASE, accelerator: "nvidia", instance_type: "g5.12xlarge", gpu_count: 2 }],
    "nvidia sized": [{ ...BASE, accelerator: "nvidia", instance_type: "g5.12xlarge", gpu_count: 1, cpu: 8192, memory: 32768 }],
    "nvidia own image": [{ ...BASE, accelerator: "nvidia", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/notebook" }],
    neuron: [{ ...BASE, accelerator: "neuron", instance_type: "inf2.24xlarge" }],
    "not offered": [{ ...BASE, accelerator: "nvidia", instance_type: "g6.2xlarge" }],
    "nothing offered": [{ ...BASE, accelerator: "neuron" }, {}],
    "other cluster": [{ ...BASE, accelerator: "nvidia" }, OFFERED, { ...PLACEMENT, cluster: "ml-gpu" }],
    "subnet outside": [{ ...BASE, accelerator: "nvidia" }, OFFERED, { ...PLACEMENT, subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9"] }],
    "fargate elsewhere": [BASE, OFFERED, { cluster: "ml-gpu", subnets: ["subnet-0fedcba9"] }],
    "state without placement": [{ ...BASE, accelerator: "nvidia" }, OFFERED, { cluster: "", subnets: [] }],
  };

  beforeAll(async () => {
    await Promise.all(
      Object.entries(cases).map(async ([name, [vars, offered, placement]]) => (results[name] = await evaluateCompute(json, vars, offered, placement))),
    );
  }, 120_000);

  test("without accelerator: Fargate on demand, 1 vCPU and 4 GiB, datascience-notebook, no device, the vars file's public IP", () => {
    const r = results.fargate;
    expect(r).toMatchObject({
      requires_compatibilities: ["FARGATE"],
      cpu: "1024",
      memory: "4096",
      launch_type: "FARGATE",
      capacity_providers: [],
      capacity_check: true,
      ephemeral_storage_blocks: 0,
    });
    expect(container(r)).toMatchObject({ image: "quay.io/jupyter/datascience-notebook:2024-05-27", command: null, resourceRequirements: null });
  });

  test("nvidia: the default g6.xlarge through its capacity provider, all of it (4 vCPUs, 90 % of 16 GiB), its GPU, the CUDA image, no public IP", () => {
    const r = results.nvidia;
    expect(r).toMatchObject({
      requires_compatibilities: ["MANAGED_INSTANCES"],
      cpu: "4096",
      memory: "14592", // 16 GiB × 0.9 = 14745.6 MiB, down to a multiple of 256
      launch_type: "none",
      capacity_providers: [providerName("g6.xlarge")],
      assign_public_ip: false,
      ephemeral_storage_blocks: 0,
      capacity_check: true,
    });
    expect(container(r)).toMatchObject({ image: `${NVIDIA_IMAGE}:cuda12-2024-05-27`, command: null, resourceRequirements: [{ type: "GPU", value: "1" }] });
  });

  test("nvidia, 2 of g5.12xlarge's 4 GPUs: half its vCPUs and half the memory it leaves tasks", () => {
    const r = results["nvidia half of g5.12xlarge"];
    // 48 vCPUs / 2 = 24 × 1024; 192 GiB × 0.9 = 176947 MiB → 176896, half 88448 → 88320 (steps of 256)
    expect(r).toMatchObject({ cpu: "24576", memory: "88320", capacity_providers: [providerName("g5.12xlarge")] });
    expect(container(r).resourceRequirements).toEqual([{ type: "GPU", value: "2" }]);
  });

  test("cpu and memory given with an accelerator are the task's size", () => {
    const r = results["nvidia sized"];
    expect(r).toMatchObject({ cpu: "8192", memory: "32768", requires_compatibilities: ["MANAGED_INSTANCES"] });
    expect(container(r).resourceRequirements).toEqual([{ type: "GPU", value: "1" }]);
  });

  test("an image of the vars file replaces the CUDA default, tagged jupyter_docker_tag", () => {
    expect(container(results["nvidia own image"])).toMatchObject({
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/notebook:2024-05-27",
      command: null,
    });
  });

  test("neuron: every Neuron device of the instance, the Neuron SDK image and the command that adds JupyterLab", () => {
    const r = results.neuron;
    // inf2.24xlarge: 96 vCPUs, 384 GiB (× 0.9 = 353894 → 353792), 6 Inferentia2 chips, all of them the task's
    expect(r).toMatchObject({
      requires_compatibilities: ["MANAGED_INSTANCES"],
      cpu: "98304",
      memory: "353792",
      capacity_providers: [providerName("inf2.24xlarge")],
      assign_public_ip: false,
    });
    expect(container(r)).toMatchObject({
      image: `${NEURON_IMAGE}:${NEURON_IMAGE_TAG}`,
      command: NEURON_START_COMMAND,
      resourceRequirements: [{ type: "NeuronDevice", value: "ALL" }],
    });
  });

  test("an instance type the capacity does not offer: the service's precondition fails, naming the type, what is offered and the stack", () => {
    const r = results["not offered"];
    expect(r.capacity_check).toBe(false);
    expect(r.capacity_message).toBe(
      "instance_type g6.2xlarge has no capacity in accelerators-gpu, which offers g5.12xlarge, g6.xlarge, inf2.24xlarge, inf2.xlarge: choose one of those, or ask an administrator to add g6.2xlarge to accelerator_instance_types and deploy accelerators-gpu.",
    );
  });

  test("an accelerators stack that offers nothing (no instance types, or destroyed: its state has no providers): the precondition says so", () => {
    const r = results["nothing offered"];
    expect(r.capacity_check).toBe(false);
    expect(r.capacity_message).toContain(
      "instance_type inf2.xlarge has no capacity in accelerators-gpu, which offers none (its accelerator_instance_types is empty, or it was destroyed)",
    );
  });
  test("on another cluster than the capacity's: the service's precondition names both and what to set", () => {
    const r = results["other cluster"];
    expect([r.capacity_check, r.cluster_check, r.subnets_check]).toEqual([true, false, true]);
    expect(r.cluster_message).toBe(
      "ecs_cluster_name is data-science, but accelerators-gpu added its accelerated capacity to cluster ml-gpu (a capacity provider serves its own cluster only): set ecs_cluster_name to ml-gpu, or set accelerator to none.",
    );
  });

  test("in a subnet the capacity's instances do not run in: the precondition names that subnet and the capacity's", () => {
    const r = results["subnet outside"];
    expect([r.capacity_check, r.cluster_check, r.subnets_check]).toEqual([true, true, false]);
    expect(r.subnets_message).toBe(
      "fargate_subnets has subnet-89abcdef, which accelerators-gpu's instances do not run in (its subnet_ids: subnet-0123456789abcdef0, subnet-0fedcba9): an accelerated notebook uses those subnets; set fargate_subnets to them, or ask an administrator to add yours to accelerators-gpu's subnet_ids.",
    );
  });

  test("placement is not checked for a Fargate notebook, nor against a state written before it said where its capacity is", () => {
    for (const name of ["fargate elsewhere", "state without placement", "nvidia"])
      expect([name, results[name].cluster_check, results[name].subnets_check]).toEqual([name, true, true]);
  });
});

/** A vars file refused: BASE with `set` changed. */
type BadCase = RejectedVarsCase & { set: Vars };

const PRECONDITION = "Error: Resource precondition failed";

const GOOD = [
  { name: "nvidia with its defaults", vars: { ...BASE, accelerator: "nvidia" } },
  {
    name: "nvidia on g6e.48xlarge with 8 GPUs, cpu and memory given",
    vars: { ...BASE, accelerator: "nvidia", instance_type: "g6e.48xlarge", gpu_count: 8, cpu: 196608, memory: 1415424 },
  },
  { name: "neuron on trn1.32xlarge", vars: { ...BASE, accelerator: "neuron", instance_type: "trn1.32xlarge" } },
  { name: "neuron with a 1 vCPU task (cpu not a Fargate value)", vars: { ...BASE, accelerator: "neuron", cpu: 1000, memory: 3000 } },
  { name: "the old configuration's file unchanged (Fargate)", vars: OLD_VARS },
  { name: "accelerator none with an empty instance type", vars: { ...OLD_VARS, accelerator: "none", instance_type: "" } },
];

const BAD: BadCase[] = [
  { name: "accelerator amd", set: { accelerator: "amd" }, variable: "accelerator", message: "accelerator must be 'none', 'nvidia' or 'neuron'" },
  {
    name: "an unknown instance type",
    set: { accelerator: "nvidia", instance_type: "p5.48xlarge" },
    variable: "instance_type",
    message: "instance_type must be empty or one of the accelerated instance types this project knows",
  },
  {
    name: "an instance type without accelerator",
    set: { instance_type: "g6.xlarge" },
    variable: "instance_type",
    message: "instance_type is 'g6.xlarge' but accelerator is none (Fargate): set accelerator to nvidia or neuron, or leave instance_type empty.",
    error: PRECONDITION,
  },
  {
    name: "a Neuron instance type for nvidia",
    set: { accelerator: "nvidia", instance_type: "inf2.xlarge" },
    variable: "accelerator",
    message: "instance_type inf2.xlarge is a neuron instance, but accelerator is nvidia: choose one of g4dn.12xlarge, g4dn.16xlarge, g4dn.2xlarge,",
    error: PRECONDITION,
  },
  {
    name: "more GPUs than g6.xlarge has",
    set: { accelerator: "nvidia", gpu_count: 2 },
    variable: "gpu_count",
    message: "gpu_count 2 is more than g6.xlarge has (1 GPUs): ask for at most that many, or choose an instance type with more.",
    error: PRECONDITION,
  },
  {
    name: "gpu_count with neuron",
    set: { accelerator: "neuron", gpu_count: 1 },
    variable: "gpu_count",
    message: "gpu_count is for accelerator nvidia (accelerator is neuron)",
    error: PRECONDITION,
  },
  {
    name: "more cpu than inf2.xlarge gives a task",
    set: { accelerator: "neuron", cpu: 8192 },
    variable: "cpu",
    message: "cpu 8192 is more than a task gets on inf2.xlarge: at most 4096 CPU units (its 4 vCPUs)",
    error: PRECONDITION,
  },
  {
    name: "all of g6.xlarge's memory",
    set: { accelerator: "nvidia", memory: 16384 },
    variable: "memory",
    message: "memory 16384 is more than a task gets on g6.xlarge: at most 14592 MiB of its 16 GiB (the rest is kept for the instance)",
    error: PRECONDITION,
  },
  {
    name: "Fargate Spot with an accelerator",
    set: { accelerator: "nvidia", capacity_provider: "FARGATE_SPOT" },
    variable: "capacity_provider",
    message: "capacity_provider FARGATE_SPOT is Fargate's, but accelerator is nvidia",
    error: PRECONDITION,
  },
  {
    name: "Fargate storage with an accelerator",
    set: { accelerator: "neuron", ephemeral_storage_gib: 50 },
    variable: "ephemeral_storage_gib",
    message:
      "ephemeral_storage_gib is Fargate's task storage, but accelerator is neuron: a notebook on an instance uses the instance's volume (accelerator_volume_gib",
    error: PRECONDITION,
  },
  {
    name: "a public IP with an accelerator",
    set: { accelerator: "nvidia", assign_public_ip: true },
    variable: "assign_public_ip",
    message: "assign_public_ip is true, but accelerator is nvidia: ECS gives no public IP to a task on an instance",
    error: PRECONDITION,
  },
  { name: "gpu_count 0", set: { accelerator: "nvidia", gpu_count: 0 }, variable: "gpu_count", message: "gpu_count must be a whole number from 1" },
  {
    name: "cpu 100 with an accelerator",
    set: { accelerator: "nvidia", cpu: 100 },
    variable: "cpu",
    message: "with an accelerator, a whole number of CPU units from 256; got 100.",
  },
  { name: "a Fargate cpu value still checked without accelerator", set: { cpu: 1000 }, variable: "cpu", message: "cpu must be one of the Fargate CPU values" },
];

describeWithTerraform("an accelerated notebook's variables and checks, evaluated by terraform", () => {
  let dir: string | undefined;
  const results = new Map<string, TerraformResult>();

  beforeAll(async () => {
    const { json } = synthStack("notebook-gpu", settingsFor({}, ENVIRONMENTS));
    dir = await initVariablesDir(json);
    const planDir = dir;
    const all: Array<[string, Vars]> = [
      ...GOOD.map((c): [string, Vars] => [`good: ${c.name}`, c.vars]),
      ...BAD.map((c): [string, Vars] => [`bad: ${c.name}`, { ...BASE, ...c.set }]),
    ];
    await Promise.all(all.map(async ([key, vars]) => results.set(key, await planVars(planDir, tfvars(vars)))));
  }, 120_000);

  afterAll(() => removeDir(dir));

  describeVarsCases(results, GOOD, BAD);
});

describeWithTerraform("a team roll-out with accelerators per user, evaluated by terraform", () => {
  // GIVEN a team file where dave asks for 2 of g5.12xlarge's GPUs, erin for Neuron, frank for a larger Fargate task,
  // and gina for a GPU with her own image
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-accel-team-"));
  const teamFile = path.join(dir, "team.json");
  fs.writeFileSync(
    teamFile,
    JSON.stringify({
      users: [
        { name: "dave", accelerator: "nvidia", instance_type: "g5.12xlarge", gpu_count: 2 },
        { name: "erin", accelerator: "neuron" },
        { name: "frank", cpu: 2048, memory: 8192 },
        { name: "gina", accelerator: "nvidia", image: GINA_IMAGE },
      ],
    }),
  );
  const settings = settingsFor({}, { gpu: { ...ENVIRONMENTS.gpu, teamFile } });
  const stacks = Object.fromEntries(["dave", "erin", "frank", "gina"].map((user) => [user, synthStack(`notebook-gpu-${user}`, settings).json]));
  // AND the administrator's vars file, which asks for nvidia with a Fargate size and the team's CUDA image
  const adminVars: Vars = { ...OLD_VARS, accelerator: "nvidia", cpu: 1024, memory: 4096, image: TEAM_IMAGE };
  const results: Record<string, Record<string, any>> = {};
  const plans: Record<string, TerraformResult> = {};
  const planDirs: string[] = [];

  beforeAll(async () => {
    await Promise.all(Object.entries(stacks).map(async ([user, json]) => (results[user] = await evaluateCompute(json, adminVars))));
    // and each stack's checks with a vars file that adds Fargate storage
    await Promise.all(
      Object.entries(stacks).map(async ([user, json]) => {
        const planDir = await initVariablesDir(json);
        planDirs.push(planDir);
        plans[user] = await planVars(planDir, tfvars({ ...OLD_VARS, ephemeral_storage_gib: 50 }));
      }),
    );
  }, 120_000);

  afterAll(() => {
    for (const planDir of planDirs) removeDir(planDir);
    removeDir(dir);
  });

  test("each member's notebook is what the team file asks, whatever the vars file says", () => {
    expect(results.dave).toMatchObject({
      requires_compatibilities: ["MANAGED_INSTANCES"],
      cpu: "24576",
      memory: "88320",
      capacity_providers: [providerName("g5.12xlarge")],
      launch_type: "none",
      capacity_check: true,
    });
    expect(container(results.dave).resourceRequirements).toEqual([{ type: "GPU", value: "2" }]);
    expect(results.erin).toMatchObject({
      requires_compatibilities: ["MANAGED_INSTANCES"],
      cpu: "4096",
      memory: "14592",
      capacity_providers: [providerName("inf2.xlarge")],
    });
    expect(container(results.erin)).toMatchObject({
      image: `${NEURON_IMAGE}:${NEURON_IMAGE_TAG}`,
      resourceRequirements: [{ type: "NeuronDevice", value: "ALL" }],
    });
    expect(results.frank).toMatchObject({ requires_compatibilities: ["FARGATE"], cpu: "2048", memory: "8192", launch_type: "FARGATE", capacity_providers: [] });
    expect(container(results.frank).resourceRequirements).toBeNull();
  });

  test("the vars file's image goes with its accelerator: dave (nvidia) gets it, erin and frank their accelerator's default, gina her own", () => {
    const tag = OLD_VARS.jupyter_docker_tag;
    expect(container(results.dave).image).toBe(`${TEAM_IMAGE}:${tag}`);
    expect(container(results.erin).image).toBe(`${NEURON_IMAGE}:${NEURON_IMAGE_TAG}`);
    expect(container(results.frank).image).toBe(`${DEFAULT_IMAGE}:${tag}`);
    expect(container(results.gina).image).toBe(`${GINA_IMAGE}:${tag}`);
    expect(results.gina).toMatchObject({ requires_compatibilities: ["MANAGED_INSTANCES"], capacity_providers: [providerName("g6.xlarge")] });
  });

  test("the checks apply to the values a member gets: Fargate storage is refused for dave and erin, accepted for frank", () => {
    for (const [user, accelerator] of [
      ["dave", "nvidia"],
      ["erin", "neuron"],
      ["gina", "nvidia"],
    ]) {
      expect(plans[user].code).not.toBe(0);
      expect(oneLine(plans[user].output)).toContain(`ephemeral_storage_gib is Fargate's task storage, but accelerator is ${accelerator}`);
    }
    expect(plans.frank.output).not.toContain("Error:");
    expect(plans.frank.code).toBe(0);
  });
});

describeWithTerraform("the accelerators-<env> stack: one capacity provider per instance type, evaluated by terraform", () => {
  const { json } = synthAcceleratorsStack();
  const provider = Object.values<any>(json.resource.aws_ecs_capacity_provider)[0];
  const template = provider.managed_instances_provider.instance_launch_template;
  const roleCount = Object.values<any>(json.resource.aws_iam_role)[0].count;
  /** Each expression of the provider for one instance type: `each.value` is that type. */
  const forType = (value: string, type: string) => value.replace(/\beach\.value\b/g, JSON.stringify(type));
  const types = ["g6.xlarge", "g5.12xlarge", "inf2.xlarge"];
  const vars = { region: "eu-west-1", ecs_cluster_name: "data-science", subnet_ids: ["subnet-0123456789abcdef0"], accelerator_instance_types: types };
  let values: Record<string, any>;

  beforeAll(async () => {
    const expressions: Record<string, string> = {
      provider_count: `\${length(${inner(provider.for_each)})}`,
      role_count: roleCount,
      none_count: roleCount.replace(/var\.accelerator_instance_types/g, "[]"),
    };
    types.forEach((type, i) => {
      expressions[`name_${i}`] = forType(provider.name, type);
      expressions[`vcpus_${i}`] = forType(template.instance_requirements.vcpu_count.min, type);
      expressions[`memory_${i}`] = forType(template.instance_requirements.memory_mib.min, type);
      expressions[`allowed_${i}`] = `\${${inner(template.instance_requirements.allowed_instance_types.map((t: string) => forType(t, type)))}}`;
    });
    // The output, with the providers standing in as what their configuration gives them: a name per type.
    const standIn = `{ for t in ${inner(provider.for_each)} : t => { name = ${inner(provider.name).replace(/\beach\.value\b/g, "t")} } }`;
    expressions.output = json.output.accelerator_capacity_providers.value.replace(/aws_ecs_capacity_provider\.[A-Za-z0-9_]+/, standIn);
    expressions.scale_in_after = provider.managed_instances_provider.infrastructure_optimization.scale_in_after;
    expressions.volume = template.storage_configuration.storage_size_gib;
    // The cluster the stack looks up, as AWS would answer.
    const replacements: Array<[RegExp, string]> = [[/data\.aws_ecs_cluster\.cluster\.arn/g, JSON.stringify(CLUSTER_ARN)]];
    values = await evaluateExpressions(expressions, { replacements, variables: json.variable, varsText: tfvars(vars) });
  }, 60_000);

  test("a provider per listed type, named after the environment, the cluster and the type, launching exactly that type with at least its vCPUs and memory", () => {
    expect(values.provider_count).toBe(3);
    expect([0, 1, 2].map((i) => [values[`name_${i}`], values[`allowed_${i}`], values[`vcpus_${i}`], values[`memory_${i}`]])).toEqual([
      [providerName("g6.xlarge"), ["g6.xlarge"], 4, 16 * 1024],
      [providerName("g5.12xlarge"), ["g5.12xlarge"], 48, 192 * 1024],
      [providerName("inf2.xlarge"), ["inf2.xlarge"], 4, 16 * 1024],
    ]);
  });

  test("the output notebooks read maps each type to its provider's name", () => {
    expect(values.output).toEqual({
      "g6.xlarge": providerName("g6.xlarge"),
      "g5.12xlarge": providerName("g5.12xlarge"),
      "inf2.xlarge": providerName("inf2.xlarge"),
    });
    // the names the notebook tests above stand in for the state's output
    for (const type of ["g6.xlarge", "g5.12xlarge", "inf2.xlarge"]) expect(values.output[type]).toBe(OFFERED[type]);
  });

  test("it also says where the capacity is, for the notebooks' placement checks: the cluster it looked up and the instances' subnets", () => {
    expect(json.output.capacity_cluster_name.value).toBe("${data.aws_ecs_cluster.cluster.cluster_name}");
    expect(json.output.capacity_subnet_ids.value).toBe("${var.subnet_ids}");
    const cluster = Object.values<any>(json.data.aws_ecs_cluster)[0];
    expect(cluster.cluster_name).toBe("${var.ecs_cluster_name}");
  });

  test("the shipped examples/accelerators.example.tfvars plans without error or undeclared name", async () => {
    const dir = await initVariablesDir(json);
    try {
      const result = await planVars(dir, fs.readFileSync(path.join(__dirname, "..", "examples", "accelerators.example.tfvars"), "utf8"));
      expect(result.output).not.toContain("Error:");
      expect(result.output).not.toContain("undeclared variable");
      expect(result.output).not.toContain("error message expression is invalid");
      expect(result.code).toBe(0);
    } finally {
      removeDir(dir);
    }
  }, 60_000);

  test("an idle instance ends after 300 s, with a 100 GiB volume, by default; no type listed: no role, profile or group", () => {
    expect([values.scale_in_after, values.volume]).toEqual([300, 100]);
    expect([values.role_count, values.none_count]).toEqual([1, 0]);
  });
});

describeWithTerraform("the accelerated capacity's roles, rendered by terraform and evaluated", () => {
  const { json } = synthAcceleratorsStack();
  const role = (id: string) => Object.entries<any>(json.resource.aws_iam_role).find(([key]) => key.startsWith(`accelerators_${id}_`))![1];
  const ACCOUNT = "111122223333";
  let trust: Record<string, any>;

  beforeAll(async () => {
    trust = await renderPolicies({ infrastructure: role("infrastructure_role").assume_role_policy, instance: role("instance_role").assume_role_policy });
  }, 60_000);

  const assume = (service: string, roleName: string) => ({
    principal: service,
    action: "sts:AssumeRole",
    resource: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
  });

  test("ECS (not EC2, not a task) may assume the infrastructure role; EC2 (not ECS) the instance role", async () => {
    const infrastructure = role("infrastructure_role").name;
    const instance = role("instance_role").name;
    expect(await decide(assume("ecs.amazonaws.com", infrastructure), { resource: trust.infrastructure })).toBe("Allowed");
    expect(await decide(assume("ec2.amazonaws.com", infrastructure), { resource: trust.infrastructure })).toBe("ImplicitlyDenied");
    expect(await decide(assume("ecs-tasks.amazonaws.com", infrastructure), { resource: trust.infrastructure })).toBe("ImplicitlyDenied");
    expect(await decide(assume("ec2.amazonaws.com", instance), { resource: trust.instance })).toBe("Allowed");
    expect(await decide(assume("ecs.amazonaws.com", instance), { resource: trust.instance })).toBe("ImplicitlyDenied");
  });

  test("AWS's infrastructure policy lets ECS pass the instance role: its evaluated name starts with ecsInstanceRole, which the policy's PassRole requires", async () => {
    // The PassRole grant of AmazonECSInfrastructureRolePolicyForManagedInstances as AWS's
    // documentation states it ("The policy scopes iam:PassRole to
    // arn:aws:iam::*:role/ecsInstanceRole*", ECS developer guide, Managed Instances instance
    // profile); the managed policy's own text is not available offline.
    const passRole = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::*:role/ecsInstanceRole*" }] };
    const names = await evaluatedNames(json);
    expect(names).toEqual({
      infrastructure: `jupyter-gpu-${CLUSTER_HASH}-ecs-infrastructure`,
      instance: `ecsInstanceRole-jupyter-gpu-${CLUSTER_HASH}`,
      profile: `ecsInstanceRole-jupyter-gpu-${CLUSTER_HASH}`,
    });
    const pass = (roleName: string) => ({
      principal: `arn:aws:iam::${ACCOUNT}:role/${names.infrastructure}`,
      action: "iam:PassRole",
      resource: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    });
    expect(await decide(pass(names.instance), { identity: passRole })).toBe("Allowed");
    expect(await decide(pass(`jupyter-gpu-${CLUSTER_HASH}-instance`), { identity: passRole })).toBe("ImplicitlyDenied");
    const attached = Object.values<any>(json.resource.aws_iam_role_policy_attachment).map((a) => a.policy_arn.replace(/\$\{[^}]+\}/, "aws"));
    expect(attached.sort()).toEqual([
      "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForManagedInstances",
      "arn:aws:iam::aws:policy/AmazonECSInstanceRolePolicyForManagedInstances",
    ]);
  });

  test("the names fit IAM's 64 characters with the longest environment name, and differ between clusters", async () => {
    const longest = "a".repeat(24);
    const spec = acceleratorsStackSpecs(settingsFor({}, { [longest]: { ...ENVIRONMENTS.gpu } })).find((s) => s.stackId === `accelerators-${longest}`)!;
    const long = await evaluatedNames(JSON.parse(Testing.synth(new AcceleratorsStack(Testing.app(), spec))));
    for (const name of Object.values(long)) expect(name.length).toBeLessThanOrEqual(64);
    const otherCluster = await evaluatedNames(json, CLUSTER_ARN.replace("data-science", "ml"));
    expect(otherCluster.instance).not.toBe((await evaluatedNames(json)).instance);
  });
});

/** The roles' and the instance profile's names, evaluated by terraform for a cluster ARN. */
async function evaluatedNames(json: any, clusterArn = CLUSTER_ARN): Promise<{ infrastructure: string; instance: string; profile: string }> {
  const role = (id: string) => Object.entries<any>(json.resource.aws_iam_role).find(([key]) => key.startsWith(`accelerators_${id}_`))![1];
  const profile = Object.values<any>(json.resource.aws_iam_instance_profile)[0];
  const replacements: Array<[RegExp, string]> = [[/data\.aws_ecs_cluster\.cluster\.arn/g, JSON.stringify(clusterArn)]];
  const names = { infrastructure: role("infrastructure_role").name, instance: role("instance_role").name, profile: profile.name };
  return (await evaluateExpressions(names, { replacements })) as { infrastructure: string; instance: string; profile: string };
}
