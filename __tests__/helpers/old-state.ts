/**
 * States of the old plain-Terraform configuration, made with the resource shapes that
 * configuration wrote (DESIGN.md: a random_string suffix, a task definition with the token
 * on its command line, a service, target group, security group, execution role, log group,
 * host rule and CNAME; the cluster, load balancer, listener and VPC read by data sources),
 * with plausible values.
 */

const ACCOUNT = "123456789012";
export const LB = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/team-alb/0123456789abcdef`;
const LISTENER = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/team-alb/0123456789abcdef/fedcba9876543210`;

export const managed = (type: string, name: string, attributes: Record<string, unknown>) => ({
  mode: "managed",
  type,
  name,
  provider: `provider["registry.terraform.io/hashicorp/${type.startsWith("random_") ? "random" : "aws"}"]`,
  instances: [{ schema_version: 0, attributes }],
});
const data = (type: string, name: string, attributes: Record<string, unknown>) => ({ ...managed(type, name, attributes), mode: "data" });

/** An old notebook's state: suffix and token as given, the rest as the old configuration made it. */
export function oldState(suffix: string, token: string, options: { quote?: string; extra?: Array<ReturnType<typeof managed>>; without?: string[]; clusterByName?: boolean } = {}) {
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
      cluster: options.clusterByName ? "data-science" : `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/data-science`,
      network_configuration: [{ subnets: ["subnet-0fedcba9876543210", "subnet-0123456789abcdef0"], assign_public_ip: false, security_groups: ["sg-0123456789abcdef0"] }],
    }),
    managed("aws_lb_target_group", "notebook", { name, vpc_id: "vpc-0123456789abcdef0", port: 8888 }),
    managed("aws_security_group", "notebook", { name }),
    managed("aws_iam_role", "execution", { name: `${name}-execution` }),
    managed("aws_cloudwatch_log_group", "notebook", { name: `/ecs/${name}` }),
    managed("aws_lb_listener_rule", "host", { listener_arn: LISTENER, priority: 17 }),
    // The AWS provider keeps a record's name in lower case.
    managed("aws_route53_record", "notebook", { name: `${name.toLowerCase()}.notebooks.example.com`, type: "CNAME", zone_id: "Z0123456789ABCDEFGHIJ" }),
    ...(options.extra ?? []),
  ].filter((r) => !(options.without ?? []).includes(r.type));
  return JSON.stringify({ version: 4, terraform_version: "1.5.7", serial: 12, lineage: "5b0f7c2e-1111-2222-3333-444455556666", outputs: {}, resources });
}

