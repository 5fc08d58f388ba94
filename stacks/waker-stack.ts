import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsEcsCluster } from "@cdktf/provider-aws/lib/data-aws-ecs-cluster";
import { DataAwsLb } from "@cdktf/provider-aws/lib/data-aws-lb";
import { DataAwsLbListener } from "@cdktf/provider-aws/lib/data-aws-lb-listener";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { platformName } from "../modules/platform";
import { NotebookWaker } from "../modules/waker";
import { WakerStackSpec } from "./stack-specs";
import { administratorProvider, configureBackend, PROJECT_TAG, requireTerraformVersion } from "./terraform-settings";
import { clusterAndLoadBalancerVariables, profileNameVariable, regionVariable, tagsVariable } from "./variables";

/**
 * `waker-<env>`: on an environment whose notebooks run on the team's own cluster and load
 * balancer, opening a stopped notebook's URL starts it (modules/waker). It looks the cluster,
 * load balancer and HTTPS listener up (the same variables as the notebooks' vars files) and
 * adds the waker: one Lambda function, one Lambda target group on that load balancer, a rule
 * on the cluster's stopped tasks. Deployed once per environment by an administrator.
 */
export class WakerStack extends TerraformStack {
  public readonly waker: NotebookWaker;

  constructor(scope: Construct, spec: WakerStackSpec) {
    super(scope, spec.stackId);
    requireTerraformVersion(this);
    configureBackend(this, spec.backend);
    const vars = {
      region: regionVariable(this, "AWS region of the team's cluster and load balancer, e.g. eu-west-1."),
      profileName: profileNameVariable(this),
      ...clusterAndLoadBalancerVariables(this),
      tags: tagsVariable(this, "Environment, Project, ManagedBy and Purpose", "this stack"),
    };
    administratorProvider(this, vars, spec.environment, "notebook-waker");
    // Only looked up: the cluster, the load balancer and its listener the notebooks' rules are on.
    const cluster = new DataAwsEcsCluster(this, "cluster", { clusterName: vars.ecsClusterName.stringValue });
    const loadBalancer = new DataAwsLb(this, "load_balancer", {
      arn: vars.loadbalancerArn.stringValue,
      lifecycle: {
        postcondition: [
          {
            // The waker checks a notebook's allowed CIDRs against the last X-Forwarded-For entry.
            condition: '${self.xff_header_processing_mode == "append"}',
            errorMessage:
              "the waker checks each notebook's allowed CIDRs against the address the load balancer appends to X-Forwarded-For: set the load balancer's routing.http.xff_header_processing.mode back to append (its default).",
          },
        ],
      },
    });
    const listener = new DataAwsLbListener(this, "listener", { loadBalancerArn: loadBalancer.arn, port: vars.listenerPort.numberValue });
    this.waker = new NotebookWaker(this, "waker", {
      name: platformName(spec.environment),
      environment: spec.environment,
      project: PROJECT_TAG,
      region: vars.region.stringValue,
      account: new DataAwsCallerIdentity(this, "account").accountId,
      partition: new DataAwsPartition(this, "partition").partition,
      clusterName: cluster.clusterName,
      clusterArn: cluster.arn,
      loadBalancers: [{ name: loadBalancer.name, arn: loadBalancer.arn, listenerArn: listener.arn }],
    });
  }
}
