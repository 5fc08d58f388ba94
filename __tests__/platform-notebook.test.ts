import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOAD_BALANCER_TAG, preferenceOrder } from "../modules/platform-state";
import { onlyResource, settingsFor, synthStack } from "./helpers/synth";
import { describeWithTerraform, oneLine, planVars, removeDir, runTerraform, tfvars } from "./helpers/terraform";
import { ALL_ON, OLD_VARS, REQUIRED_VARIABLES } from "./helpers/vars";

/**
 * Notebook stacks of an environment with a platform stack: the cluster, network, load
 * balancer, zone and EFS come from the platform's state, not from variables.
 */

const DEV = { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" };
const PLATFORM_ENVS = { dev: { ...DEV, platform: true, loadBalancers: 6 }, qa: DEV };
/** The variables that name the team's own platform: absent on a platform stack's notebooks. */
const OWN_PLATFORM_VARIABLES = [
  "vpc_id", "ecs_cluster_name", "loadbalancer_arn", "hosted_zone_id", "fargate_subnets", "listener_port", "domain", "assign_public_ip",
  "efs_file_system_id", "efs_security_group_id",
];

function platformStack(id = "notebook-dev", context: unknown = PLATFORM_ENVS, env: Record<string, string> = {}) {
  return synthStack(id, settingsFor(env, context));
}

/** The platform's remote state reference, e.g. `data.terraform_remote_state.platform_state_1A2B3C4D`. */
function remoteStateAddress(json: any): string {
  const names = Object.keys(json.data?.terraform_remote_state ?? {});
  expect(names).toHaveLength(1);
  return `data.terraform_remote_state.${names[0]}`;
}

describe("a notebook stack of an environment with a platform", () => {
  test("declares none of the platform's variables; region and the user's own choices stay", () => {
    const { json } = platformStack();
    const names = Object.keys(json.variable);
    for (const name of OWN_PLATFORM_VARIABLES) expect(names).not.toContain(name);
    for (const name of ["region", "profile_name", "cpu", "memory", "token", "jupyter_docker_tag", "hostname_prefix", "allowed_cidrs", "capacity_provider"]) expect(names).toContain(name);
    // Only region has no default: a vars file needs nothing else.
    expect(names.filter((n) => !("default" in json.variable[n]))).toEqual(["region"]);
  });

  test("reads the platform stack's state where it lives, next to the notebook states, and looks up no platform resource", () => {
    const { json } = platformStack();
    const state = Object.values<any>(json.data.terraform_remote_state)[0];
    expect(state.backend).toBe("s3");
    expect(state.config).toEqual({ bucket: "acme-nb-state", key: "jupyter-notebooks/_platform/dev/terraform.tfstate", region: "eu-west-1", encrypt: true });
    for (const type of ["aws_ecs_cluster", "aws_lb", "aws_lb_listener", "aws_route53_zone", "aws_vpc", "aws_efs_file_system"]) expect(json.data[type]).toBeUndefined();
  });

  test("puts the notebook on its placed load balancer: listener, CNAME target, target group tag and security group source", () => {
    const { json } = platformStack();
    const outputs = `${remoteStateAddress(json)}.outputs`;
    const placement = Object.keys(json.resource.terraform_data).find((k) => k.startsWith("platform_placement_load_balancer_"));
    expect(placement).toBeDefined();
    const chosen = `${outputs}.load_balancers[terraform_data.${placement}.output]`;
    expect(onlyResource(json, "aws_lb_listener_rule").listener_arn).toBe(`\${${chosen}.https_listener_arn}`);
    expect(onlyResource(json, "aws_route53_record").records).toEqual([`\${${chosen}.dns_name}`]);
    expect(onlyResource(json, "aws_route53_record").zone_id).toBe(`\${${outputs}.hosted_zone_id}`);
    expect(onlyResource(json, "aws_lb_target_group").tags).toEqual({ [LOAD_BALANCER_TAG]: `\${${chosen}.name}` });
    expect(JSON.stringify(json.resource.aws_security_group)).toContain(`${chosen}.security_group_ids`);
    // Placement counts the environment's notebook target groups by their tags.
    const tagging = Object.values<any>(json.data.aws_resourcegroupstaggingapi_resources)[0];
    expect(tagging.resource_type_filters).toEqual(["elasticloadbalancing:targetgroup"]);
    expect(tagging.tag_filter).toEqual([
      { key: "Project", values: ["jupyter-notebooks"] },
      { key: "Environment", values: ["dev"] },
    ]);
    // The choice is over as many load balancers as a platform may have (those it lacks count
    // as full), each holding what the platform says: a checkout with older settings places alike.
    const input = json.resource.terraform_data[placement!].input as string;
    expect(input).toMatch(/for i in \[(\d+, ){19}\d+\]/);
    expect(input).toContain(`< ${outputs}.notebooks_per_load_balancer][0], -1)`);
    expect(json.resource.terraform_data[placement!].lifecycle.ignore_changes).toEqual(["input"]);
  });

  test("runs in the platform's cluster and subnets, with its public-IP choice, its domain and its EFS", () => {
    const { json } = platformStack();
    const outputs = `${remoteStateAddress(json)}.outputs`;
    const service = onlyResource(json, "aws_ecs_service");
    expect(service.cluster).toBe(`\${${outputs}.cluster_arn}`);
    expect(service.network_configuration.subnets).toBe(`\${${outputs}.notebook_subnet_ids}`);
    // (ECS gives no public IP to a task on an instance.)
    expect(service.network_configuration.assign_public_ip).toBe(`\${(var.accelerator != "none") ? false : ${outputs}.assign_public_ip}`);
    expect(onlyResource(json, "aws_route53_record").name).toContain(`${outputs}.domain`);
    expect(JSON.stringify(json.resource.aws_efs_access_point)).toContain(`${outputs}.efs_file_system_id`);
  });

  test("before the platform is deployed, planning stops saying so: the state's outputs default to empty, and a precondition names the stack", () => {
    const { json } = platformStack();
    const state = Object.values<any>(json.data.terraform_remote_state)[0];
    // Every output the platform stack has, with an empty stand-in.
    expect(Object.keys(state.defaults).sort()).toEqual(
      [
        "accelerator_capacity_providers", "assign_public_ip", "cluster_arn", "cluster_name", "domain", "efs_file_system_arn", "efs_file_system_id", "efs_security_group_id", "hosted_zone_id",
        "listener_port", "load_balancers", "notebook_subnet_ids", "notebooks_per_load_balancer", "region", "vpc_id", "zone_name",
      ].sort(),
    );
    expect(state.defaults.cluster_arn).toBe("");
    const placement = Object.values<any>(json.resource.terraform_data).find((r) => r.lifecycle?.ignore_changes);
    const first = placement.lifecycle.precondition[0];
    expect(first.condition).toMatch(/^\$\{\(length\(data\.terraform_remote_state\.\w+\.outputs\.cluster_arn\) >= 1\)\}$/);
    expect(first.error_message).toBe(
      "platform-dev has not been deployed: its state (s3://acme-nb-state/jupyter-notebooks/_platform/dev/terraform.tfstate) holds no outputs. Deploy it first (an administrator: npx cdktf deploy platform-dev --var-file=platform.tfvars), then this notebook.",
    );
  });

  test("a notebook stack in the wrong region stops at plan time: the precondition compares it with the platform's", () => {
    const { json } = platformStack();
    const placement = Object.values<any>(json.resource.terraform_data).find((r) => r.lifecycle?.ignore_changes);
    const region = placement.lifecycle.precondition.find((p: any) => p.error_message.startsWith("region must be the region of platform-dev"));
    expect(region.condition).toMatch(/outputs\.region == data\.aws_region\.[\w]+\.region/);
  });

  test("team stacks of the environment read it too; an environment without a platform and the local stack keep the variables", () => {
    const team = fs.mkdtempSync(path.join(os.tmpdir(), "nb-team-"));
    try {
      const file = path.join(team, "team.json");
      fs.writeFileSync(file, JSON.stringify({ users: [{ name: "bob" }] }));
      const { json } = platformStack("notebook-dev-bob", { dev: { ...DEV, platform: true, teamFile: file } });
      expect(Object.keys(json.data.terraform_remote_state)).toHaveLength(1);
      expect(json.variable.ecs_cluster_name).toBeUndefined();
    } finally {
      fs.rmSync(team, { recursive: true, force: true });
    }
    for (const id of ["notebook-qa", "notebook"]) {
      const { json } = platformStack(id);
      expect(json.data.terraform_remote_state).toBeUndefined();
      expect(json.variable.ecs_cluster_name).toBeDefined();
      // and its target group gets no placement tag: an existing notebook is not changed
      expect(onlyResource(json, "aws_lb_target_group").tags).toBeUndefined();
    }
  });

  test("with localPlatform, the notebook stack reads the platform stack's local state file", () => {
    const { json } = synthStack("notebook", { ...settingsFor(), localPlatform: true });
    expect(Object.values<any>(json.data.terraform_remote_state).map((s) => [s.backend, s.config])).toEqual([["local", { path: "/projects/nb/platform.tfstate" }]]);
    expect(json.variable.ecs_cluster_name).toBeUndefined();
  });
});

describeWithTerraform("vars files for a notebook stack on a platform, evaluated by terraform", () => {
  let dir: string | undefined;
  beforeAll(async () => {
    const { json } = platformStack();
    // Variables and the secret checks only: the placement needs the providers' data.
    const checks = Object.fromEntries(Object.entries<any>(json.resource.terraform_data).filter(([k]) => k === "secret_input_check"));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-vars-"));
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ variable: json.variable, terraform: { required_version: json.terraform.required_version }, resource: { terraform_data: checks } }));
    const init = await runTerraform(dir, ["init", "-input=false", "-no-color"]);
    if (init.code !== 0) throw new Error(init.output);
  }, 60_000);
  afterAll(() => removeDir(dir));

  test("a vars file with only region is enough", async () => {
    const result = await planVars(dir!, tfvars({ region: "eu-west-1" }));
    expect(oneLine(result.output)).not.toContain("Error");
    expect(result.code).toBe(0);
  }, 60_000);

  test("the user's choices are still validated, naming the variable", async () => {
    const result = await planVars(dir!, tfvars({ region: "eu-west-1", cpu: 1024, memory: 512 }));
    expect(result.code).not.toBe(0);
    expect(oneLine(result.output)).toContain("memory 512 is not offered by Fargate with cpu 1024");
  }, 60_000);

  test("an old vars file still plans: terraform warns that the platform's variables are not used here", async () => {
    const old = Object.fromEntries(Object.entries({ ...ALL_ON, ...OLD_VARS }).filter(([k]) => REQUIRED_VARIABLES.includes(k) || k === "token" || k === "cpu"));
    const result = await planVars(dir!, tfvars(old));
    expect(result.code).toBe(0);
    expect(oneLine(result.output)).toContain("Value for undeclared variable");
  }, 60_000);
});

/**
 * The notebook's expressions that read the platform, evaluated by terraform: the remote
 * state's outputs, the Tagging API's list and the region replaced by realistic values (what
 * AWS would return), everything else exactly as synthesized. terraform init does not parse
 * expressions in JSON: this is where a wrong attribute path or index would show.
 */
describeWithTerraform("a platform notebook's expressions, evaluated by terraform against a platform's outputs", () => {
  const { json } = platformStack();
  const state = remoteStateAddress(json);
  const placementKey = Object.keys(json.resource.terraform_data).find((k) => k.startsWith("platform_placement_load_balancer_"))!;
  const placement = json.resource.terraform_data[placementKey];
  const tagging = `data.aws_resourcegroupstaggingapi_resources.${Object.keys(json.data.aws_resourcegroupstaggingapi_resources)[0]}`;
  const region = `data.aws_region.${Object.keys(json.data.aws_region)[0]}`;
  const lb = (i: number) => ({
    name: `nb-dev-${i}`,
    arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/nb-dev-${i}/0123456789abcde${i}`,
    dns_name: `nb-dev-${i}-1234.eu-west-1.elb.amazonaws.com`,
    zone_id: "Z32O12XQLNTSW2",
    https_listener_arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/nb-dev-${i}/0123456789abcde${i}/aaaa${i}`,
    security_group_ids: ["sg-0aaaaaaaaaaaaaaaa"],
  });
  const PLATFORM = {
    region: "eu-west-1",
    cluster_name: "jupyter-notebooks-dev",
    cluster_arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/jupyter-notebooks-dev",
    vpc_id: "vpc-0123456789abcdef0",
    notebook_subnet_ids: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    assign_public_ip: true,
    hosted_zone_id: "Z0123456789ABCDEFGHIJ",
    zone_name: "example.com",
    domain: "notebooks.example.com",
    listener_port: 443,
    load_balancers: [0, 1, 2].map(lb),
    notebooks_per_load_balancer: 2,
    efs_file_system_id: "fs-0123456789abcdef0",
    efs_file_system_arn: "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0",
    efs_security_group_id: "sg-0bbbbbbbbbbbbbbbb",
  };
  /** The expression inside `${}`, with the platform's state, the tag list, the region and the placement replaced by locals. */
  const local = (expression: string) =>
    expression
      .replace(/^\$\{([\s\S]*)\}$/, "$1")
      .split(`${state}.outputs`).join("local.platform")
      .split(`${tagging}.resource_tag_mapping_list`).join("local.target_groups")
      .split(`${region}.region`).join("local.region")
      .split(`terraform_data.${placementKey}.output`).join("local.placed");

  /** Evaluates `expressions` (synthesized `${...}` strings) with these values for the platform, the tag list and the placement. */
  async function evaluate(values: { platform: unknown; targetGroups: unknown[]; placed?: number; region?: string }, expressions: Record<string, string>): Promise<Record<string, any>> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-eval-"));
    try {
      const config = {
        locals: { platform: values.platform, target_groups: values.targetGroups, placed: values.placed ?? -1, region: values.region ?? "eu-west-1" },
        output: Object.fromEntries(Object.entries(expressions).map(([name, e]) => [name, { value: `\${${local(e)}}` }])),
      };
      fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(config));
      for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) {
        const run = await runTerraform(dir, args);
        if (run.code !== 0) throw new Error(`terraform ${args[0]} failed:\n${run.output}`);
      }
      const out = await runTerraform(dir, ["output", "-json"]);
      // stdout (the JSON, which ends with "}" on a line of its own) comes before any warning on stderr.
      const text = out.output.slice(out.output.indexOf("{"));
      const parsed = JSON.parse(text.slice(0, text.indexOf("\n}") + 2));
      return Object.fromEntries(Object.entries<any>(parsed).map(([k, v]) => [k, v.value]));
    } finally {
      removeDir(dir);
    }
  }

  const checks = Object.fromEntries(placement.lifecycle.precondition.map((p: any, i: number) => [`precondition_${i}`, p.condition]));
  const wiring = {
    listener_arn: onlyResource(json, "aws_lb_listener_rule").listener_arn,
    records: `\${jsonencode(${local(onlyResource(json, "aws_route53_record").records[0])})}`,
    target_group_tags: `\${jsonencode(${local(onlyResource(json, "aws_lb_target_group").tags[LOAD_BALANCER_TAG])})}`,
    load_balancer_groups: onlyResource(json, "aws_security_group").ingress[0].security_groups,
    cluster: onlyResource(json, "aws_ecs_service").cluster,
    subnets: onlyResource(json, "aws_ecs_service").network_configuration.subnets,
    // A Fargate notebook (accelerator "none"): the platform's choice.
    assign_public_ip: onlyResource(json, "aws_ecs_service").network_configuration.assign_public_ip.replace('(var.accelerator != "none")', "false"),
    efs_access_points: onlyResource(json, "aws_efs_access_point").count,
    service_groups: onlyResource(json, "aws_ecs_service").network_configuration.security_groups.replace(/aws_security_group\.\w+\.id/, '"sg-notebook"'),
  };
  const first = preferenceOrder("alice", 20).filter((i) => i < 3);

  test("a deployed platform with room: alice's first choice, and every reference resolves to it", async () => {
    const placed = await evaluate({ platform: PLATFORM, targetGroups: [] }, { input: placement.input, ...checks });
    expect(placed.input).toBe(first[0]);
    for (const [name, value] of Object.entries(placed)) if (name.startsWith("precondition_")) expect({ name, value }).toEqual({ name, value: true });
    const values = await evaluate({ platform: PLATFORM, targetGroups: [], placed: placed.input }, wiring);
    const chosen = lb(first[0]);
    expect(values).toEqual({
      listener_arn: chosen.https_listener_arn,
      records: JSON.stringify(chosen.dns_name),
      target_group_tags: JSON.stringify(chosen.name),
      load_balancer_groups: ["sg-0aaaaaaaaaaaaaaaa"],
      cluster: PLATFORM.cluster_arn,
      subnets: PLATFORM.notebook_subnet_ids,
      assign_public_ip: true,
      efs_access_points: 1,
      service_groups: ["sg-notebook", "sg-0bbbbbbbbbbbbbbbb"],
    });
  }, 60_000);

  test("alice's first choice full of others' notebooks: her second; a platform without EFS gives no access point and no EFS group", async () => {
    const full = [1, 2].map((n) => ({ tags: { [LOAD_BALANCER_TAG]: `nb-dev-${first[0]}`, Owner: `other${n}` } }));
    const noEfs = { ...PLATFORM, efs_file_system_id: "", efs_file_system_arn: "", efs_security_group_id: "" };
    const placed = await evaluate({ platform: noEfs, targetGroups: full }, { input: placement.input });
    expect(placed.input).toBe(first[1]);
    const values = await evaluate({ platform: noEfs, targetGroups: full, placed: placed.input }, { listener_arn: wiring.listener_arn, efs_access_points: wiring.efs_access_points, service_groups: wiring.service_groups });
    expect(values).toEqual({ listener_arn: lb(first[1]).https_listener_arn, efs_access_points: 0, service_groups: ["sg-notebook"] });
  }, 60_000);

  test("fails when the platform is not deployed (the defaults) or is in another region: the preconditions say so", async () => {
    const state = Object.values<any>(json.data.terraform_remote_state)[0];
    const notDeployed = await evaluate({ platform: state.defaults, targetGroups: [] }, checks);
    expect(notDeployed.precondition_0).toBe(false); // "platform-dev has not been deployed"
    const elsewhere = await evaluate({ platform: PLATFORM, targetGroups: [], region: "us-east-1" }, checks);
    expect(elsewhere.precondition_0).toBe(true);
    expect(elsewhere.precondition_1).toBe(false); // "region must be the region of platform-dev"
  }, 60_000);
});
