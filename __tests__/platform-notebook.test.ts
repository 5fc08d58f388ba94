import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOAD_BALANCER_TAG } from "../modules/platform-state";
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
    expect(service.network_configuration.assign_public_ip).toBe(`\${${outputs}.assign_public_ip}`);
    expect(onlyResource(json, "aws_route53_record").name).toContain(`${outputs}.domain`);
    expect(JSON.stringify(json.resource.aws_efs_access_point)).toContain(`${outputs}.efs_file_system_id`);
  });

  test("before the platform is deployed, planning stops saying so: the state's outputs default to empty, and a precondition names the stack", () => {
    const { json } = platformStack();
    const state = Object.values<any>(json.data.terraform_remote_state)[0];
    // Every output the platform stack has, with an empty stand-in.
    expect(Object.keys(state.defaults).sort()).toEqual(
      [
        "assign_public_ip", "cluster_arn", "cluster_name", "domain", "efs_file_system_arn", "efs_file_system_id", "efs_security_group_id", "hosted_zone_id",
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
