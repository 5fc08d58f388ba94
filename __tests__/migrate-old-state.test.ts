import { ForeignStateError, readOldState, tokenProblems } from "../scripts/migrate/old-state";

/**
 * States of the old plain-Terraform configuration, made here with the resource shapes that
 * configuration wrote (DESIGN.md: a random_string suffix, a task definition with the token
 * on its command line, a service, target group, security group, execution role, log group,
 * host rule and CNAME; the cluster, load balancer, listener and VPC read by data sources),
 * with plausible values.
 */

const ACCOUNT = "123456789012";
const LB = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/team-alb/0123456789abcdef`;
const LISTENER = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/team-alb/0123456789abcdef/fedcba9876543210`;

const managed = (type: string, name: string, attributes: Record<string, unknown>) => ({
  mode: "managed",
  type,
  name,
  provider: `provider["registry.terraform.io/hashicorp/${type.startsWith("random_") ? "random" : "aws"}"]`,
  instances: [{ schema_version: 0, attributes }],
});
const data = (type: string, name: string, attributes: Record<string, unknown>) => ({ ...managed(type, name, attributes), mode: "data" });

/** An old notebook's state: suffix and token as given, the rest as the old configuration made it. */
function oldState(suffix: string, token: string, options: { quote?: string; extra?: Array<ReturnType<typeof managed>>; without?: string[] } = {}) {
  const q = options.quote ?? "'";
  const name = `jupyter-${suffix}`;
  const resources = [
    data("aws_ecs_cluster", "cluster", { cluster_name: "data-science", arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/data-science` }),
    data("aws_lb", "alb", { arn: LB, dns_name: "team-alb-123.eu-west-1.elb.amazonaws.com" }),
    data("aws_lb_listener", "https", { arn: LISTENER, port: 443 }),
    data("aws_vpc", "vpc", { id: "vpc-0123456789abcdef0" }),
    managed("random_string", "suffix", { id: suffix, result: suffix, length: 8, special: false, upper: true }),
    managed("aws_ecs_task_definition", "notebook", {
      family: name,
      cpu: "1024",
      memory: "4096",
      container_definitions: JSON.stringify([
        { name: "jupyter", image: "jupyter/datascience-notebook:latest", command: ["start-notebook.sh", `--NotebookApp.token=${q}${token}${q}`], portMappings: [{ containerPort: 8888 }] },
      ]),
    }),
    managed("aws_ecs_service", "notebook", {
      name,
      cluster: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/data-science`,
      network_configuration: [{ subnets: ["subnet-0fedcba9876543210", "subnet-0123456789abcdef0"], assign_public_ip: false, security_groups: ["sg-0123456789abcdef0"] }],
    }),
    managed("aws_lb_target_group", "notebook", { name, vpc_id: "vpc-0123456789abcdef0", port: 8888 }),
    managed("aws_security_group", "notebook", { name }),
    managed("aws_iam_role", "execution", { name: `${name}-execution` }),
    managed("aws_cloudwatch_log_group", "notebook", { name: `/ecs/${name}` }),
    managed("aws_lb_listener_rule", "host", { listener_arn: LISTENER, priority: 17 }),
    managed("aws_route53_record", "notebook", { name: `${name}.notebooks.example.com`, type: "CNAME", zone_id: "Z0123456789ABCDEFGHIJ" }),
    ...(options.extra ?? []),
  ].filter((r) => !(options.without ?? []).includes(r.type));
  return JSON.stringify({ version: 4, terraform_version: "1.5.7", serial: 12, lineage: "5b0f7c2e-1111-2222-3333-444455556666", outputs: {}, resources });
}

function refusal(text: string): string {
  try {
    readOldState(text, "old/terraform.tfstate");
  } catch (err) {
    if (err instanceof ForeignStateError) return err.message;
    throw err;
  }
  throw new Error("the state was not refused");
}

describe("reading the old configuration's state", () => {
  test("takes the suffix with its upper-case letters, the hostname, the token and where the notebook runs", () => {
    // GIVEN an old notebook whose suffix has upper-case letters
    const old = readOldState(oldState("Xk3Pq9Za", "a-long-enough-token-1234"), "terraform.tfstate");
    // THEN everything the move keeps or needs comes out of it
    expect(old).toEqual({
      suffix: "Xk3Pq9Za",
      hostname: "jupyter-Xk3Pq9Za.notebooks.example.com",
      domain: "notebooks.example.com",
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
      token: "a-long-enough-token-1234",
      tokenProblems: [],
      region: "eu-west-1",
      clusterName: "data-science",
      loadBalancerArn: LB,
      subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      vpcId: "vpc-0123456789abcdef0",
      cpu: 1024,
      memory: 4096,
    });
  });

  test("keeps a token the new rule would refuse, quoted either way or bare, and says why the rule would refuse it", () => {
    // GIVEN tokens the old configuration accepted: short, with spaces and quotes, with a '$'
    expect(readOldState(oldState("ab12cd34", "s3cret"), "f").token).toBe("s3cret");
    const spaced = readOldState(oldState("ab12cd34", "it is my token", { quote: '"' }), "f");
    expect(spaced.token).toBe("it is my token");
    expect(spaced.tokenProblems).toEqual(["it has 14 characters, fewer than the 16 a new token needs", "it has characters other than letters, digits, '.', '_', '~' and '-', which a URL must escape"]);
    expect(readOldState(oldState("ab12cd34", "dollar$igns-and-more-1234", { quote: "" }), "f").token).toBe("dollar$igns-and-more-1234");
    expect(tokenProblems("a-long-enough-token-1234")).toEqual([]);
  });

  test("finds the load balancer from the listener when the state has no aws_lb data source", () => {
    expect(readOldState(oldState("ab12cd34", "a-long-enough-token-1234", { without: ["aws_lb"] }), "f").loadBalancerArn).toBe(LB);
  });

  test("fails when the file is not JSON, or not a version 4 state", () => {
    expect(refusal("# HCL, not a state")).toMatch(/^old\/terraform\.tfstate is not a Terraform state: it is not JSON/);
    expect(refusal(JSON.stringify({ version: 3, modules: [] }))).toBe("old/terraform.tfstate is not a Terraform state of format version 4 (Terraform 0.12 and later): migrate reads nothing older");
  });

  test("fails when the state is already one of this project's notebook stacks", () => {
    const ours = oldState("ab12cd34", "a-long-enough-token-1234", { extra: [managed("aws_secretsmanager_secret", "notebook_token_secret_4F31D455", { name: "jupyter-ab12cd34/jupyter-token" })] });
    expect(refusal(ours)).toBe(
      "old/terraform.tfstate is a state of this project's notebook stack (it has aws_secretsmanager_secret), not of the old configuration: there is nothing to migrate",
    );
  });

  test("fails when the state holds another configuration, two notebooks, or a destroyed one", () => {
    // Some other project's state: a bucket and nothing of a notebook.
    const foreign = JSON.stringify({ version: 4, resources: [managed("aws_s3_bucket", "data", { bucket: "acme-data" })] });
    expect(refusal(foreign)).toMatch(/is not a notebook of the old configuration: it has 0 random_string resources \(the name suffix\)/);
    // Two notebooks in one state.
    const twice = oldState("ab12cd34", "a-long-enough-token-1234", { extra: [managed("random_string", "suffix2", { result: "zz99yy88" })] });
    expect(refusal(twice)).toMatch(/it has 2 random_string resources \(the name suffix\) where that configuration made exactly one/);
    // After terraform destroy: the resources are gone.
    expect(refusal(JSON.stringify({ version: 4, resources: [] }))).toMatch(/holds no resources: its notebook was destroyed, or never deployed/);
  });

  test("fails when the task definition carries no token, or the record is not the suffix's hostname", () => {
    const noToken = oldState("ab12cd34", "x").replace(/--NotebookApp\.token=[^"\\]*/, "--no-browser");
    expect(refusal(noToken)).toMatch(/its task definition has no --NotebookApp\.token on its command line/);
    const otherRecord = oldState("ab12cd34", "a-long-enough-token-1234").replace("jupyter-ab12cd34.notebooks", "www.notebooks");
    expect(refusal(otherRecord)).toMatch(/its DNS record "www\.notebooks\.example\.com" is not <prefix>-ab12cd34\.<domain>/);
  });
});
