import { Construct } from "constructs";
import { Fn, IResolvable, TerraformOutput, TerraformStack, Token } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { roleBoundaryArn } from "../modules/access-policies";
import { ExistingPlatform } from "../modules/existing-platform";
import { Notebook } from "../modules/notebook";
import { NotebookPlatform } from "../modules/notebook/platform";
import { AcceleratorCapacityState } from "../modules/accelerators/capacity-state";
import { equals, when } from "../modules/platform/conditions";
import { PlatformState } from "../modules/platform-state";
import { computeChecks } from "./compute-variables";
import { LOCAL_ENVIRONMENT, NotebookStackSpec } from "./stack-specs";
import { configureBackend, profileOrDefaultChain, PROJECT_TAG, requireTerraformVersion } from "./terraform-settings";
import { declareNotebookVariables, declarePlatformNotebookVariables, NotebookVariables, PlatformNotebookVariables } from "./variables";

/**
 * One user's notebook in one environment: variables, providers, backend, outputs, and two
 * modules: the platform (the team's own, named by variables, or the environment's platform
 * stack, read from its state) and the notebook. No resource logic lives here.
 */
export class NotebookStack extends TerraformStack {
  public readonly variables: NotebookVariables | PlatformNotebookVariables;
  public readonly platform: NotebookPlatform;
  public readonly notebook: Notebook;
  /** What the stack was made from: its user, environment and backend. */
  public readonly spec: NotebookStackSpec;

  constructor(scope: Construct, spec: NotebookStackSpec) {
    super(scope, spec.id);
    this.spec = spec;
    requireTerraformVersion(this);
    configureBackend(this, spec.backend);

    const platformSpec = spec.platform;
    const capacitySpec = spec.acceleratorCapacity;
    const capacity = { source: capacitySpec && { stack: capacitySpec.stackId }, noCapacityHint: noCapacityHint(spec.environment) };
    const vars = (this.variables = platformSpec
      ? declarePlatformNotebookVariables(this, spec.environment, capacity)
      : declareNotebookVariables(this, spec.environment, capacity));
    // A team file's per-user settings replace the vars file's; a member's compute (cpu,
    // memory, accelerator, ...) is all the team file's when it sets any of it.
    const overrides = spec.overrides ?? {};
    const teamCompute = overrides.accelerator !== undefined;
    const fromTeam = <T>(value: T | undefined, unset: T, variable: T): T => (teamCompute ? (value === undefined ? unset : value) : variable);
    const tags = { Owner: spec.user, Environment: spec.environment, Project: PROJECT_TAG };

    new AwsProvider(this, "aws", {
      region: vars.region.stringValue,
      profile: profileOrDefaultChain(vars.profileName.stringValue),
      defaultTags: [
        {
          tags: Token.asStringMap(Fn.merge([vars.tags.value, { ...tags, ManagedBy: "cdktf" }])),
        },
      ],
    });
    new RandomProvider(this, "random");

    // What the platform decides for the notebook: where it runs, whether it gets a public IP,
    // its domain (empty: the zone's) and the group that reaches EFS.
    let network: { subnets: string[]; assignPublicIp: boolean | IResolvable; domain: string; efsSecurityGroupId: string };
    let capacityProviderNames: Record<string, string> | undefined;
    let acceleratorPlacement: { clusterName: string; subnetIds: string[] } | undefined;
    if (platformSpec) {
      const platform = new PlatformState(this, "platform", {
        platformStackId: platformSpec.stackId,
        state: platformSpec.backend,
        owner: spec.user,
        notebookTags: { Project: tags.Project, Environment: tags.Environment },
      });
      this.platform = platform;
      capacityProviderNames = platform.acceleratorCapacityProviders;
      network = {
        subnets: platform.subnets,
        assignPublicIp: platform.assignPublicIp,
        domain: platform.domain,
        efsSecurityGroupId: platform.efsSecurityGroupId,
      };
    } else {
      const own = vars as NotebookVariables;
      this.platform = new ExistingPlatform(this, "platform", {
        clusterName: own.ecsClusterName.stringValue,
        loadBalancerArn: own.loadbalancerArn.stringValue,
        listenerPort: own.listenerPort.numberValue,
        hostedZoneId: own.hostedZoneId.stringValue,
        vpcId: own.vpcId.stringValue,
        efsFileSystemId: own.efsFileSystemId.stringValue,
      });
      network = {
        subnets: own.fargateSubnets.listValue,
        assignPublicIp: own.assignPublicIp.booleanValue,
        domain: own.domain.stringValue,
        efsSecurityGroupId: own.efsSecurityGroupId.stringValue,
      };
      if (capacitySpec?.backend) {
        const capacityState = new AcceleratorCapacityState(this, "accelerators", {
          state: capacitySpec.backend,
          accelerator: fromTeam(overrides.accelerator, "none", vars.accelerator.stringValue),
        });
        capacityProviderNames = capacityState.capacityProviderNames;
        acceleratorPlacement = { clusterName: capacityState.clusterName, subnetIds: capacityState.subnetIds };
      }
    }
    // The rules that combine the notebook's compute with its options, on the values it gets.
    const literal = (value: string | number | undefined, name: string, unset: string) =>
      teamCompute ? (value === undefined ? unset : JSON.stringify(value)) : `var.${name}`;
    computeChecks(this, {
      accelerator: literal(overrides.accelerator, "accelerator", '"none"'),
      instanceType: literal(overrides.instanceType, "instance_type", '""'),
      gpuCount: literal(overrides.gpuCount, "gpu_count", "null"),
      cpu: literal(overrides.cpu, "cpu", "null"),
      memory: literal(overrides.memory, "memory", "null"),
      capacityProvider: "var.capacity_provider",
      ephemeralStorageGib: "var.ephemeral_storage_gib",
      assignPublicIp: platformSpec ? undefined : "var.assign_public_ip",
    });

    const notebook = (this.notebook = new Notebook(this, "notebook", {
      platform: this.platform,
      subnets: network.subnets,
      compute: {
        cpu: fromTeam<number | undefined>(overrides.cpu, undefined, vars.cpu.numberValue),
        memory: fromTeam<number | undefined>(overrides.memory, undefined, vars.memory.numberValue),
        accelerator: fromTeam(overrides.accelerator, "none", vars.accelerator.stringValue),
        instanceType: fromTeam(overrides.instanceType, "", vars.instanceType.stringValue),
        gpuCount: fromTeam<number | undefined>(overrides.gpuCount, undefined, vars.gpuCount.numberValue),
        capacityProvider: vars.capacityProvider.stringValue,
        capacityProviderNames,
        instanceTable: vars.instanceTable.expression as IResolvable,
        // The vars file's image goes with the vars file's accelerator; a team member on
        // another one gets its default (""), unless the team file names an image.
        image:
          overrides.image ??
          (teamCompute
            ? Token.asString(when(equals(vars.accelerator.stringValue, overrides.accelerator!), vars.image.stringValue, ""))
            : vars.image.stringValue),
        imageTag: overrides.jupyterDockerTag ?? vars.jupyterDockerTag.stringValue,
      },
      acceleratorCapacityStack: capacitySpec?.stackId,
      acceleratorPlacement,
      // A team member's notebook never takes the vars file's token (one for everybody):
      // it gets its own, whether the member's stack or the roll-out deploys it.
      token: spec.teamMember ? undefined : vars.token.stringValue,
      domain: network.domain,
      hostnamePrefix: vars.hostnamePrefix.stringValue,
      allowedCidrs: vars.allowedCidrs.listValue,
      assignPublicIp: network.assignPublicIp,
      logRetentionDays: vars.logRetentionDays.numberValue,
      idleTimeoutMinutes: vars.idleTimeoutMinutes.numberValue,
      gitRepositoryUrl: vars.gitRepositoryUrl.stringValue,
      gitToken: vars.gitToken.stringValue,
      owner: spec.user,
      efsSecurityGroupId: network.efsSecurityGroupId,
      signIn: {
        cognitoUserPoolArn: vars.cognitoUserPoolArn.stringValue,
        cognitoUserPoolClientId: vars.cognitoUserPoolClientId.stringValue,
        cognitoUserPoolDomain: vars.cognitoUserPoolDomain.stringValue,
        oidcIssuer: vars.oidcIssuer.stringValue,
        oidcAuthorizationEndpoint: vars.oidcAuthorizationEndpoint.stringValue,
        oidcTokenEndpoint: vars.oidcTokenEndpoint.stringValue,
        oidcUserInfoEndpoint: vars.oidcUserInfoEndpoint.stringValue,
        oidcClientId: vars.oidcClientId.stringValue,
        oidcClientSecret: vars.oidcClientSecret.stringValue,
        sessionTimeoutSeconds: vars.authSessionTimeoutSeconds.numberValue,
      },
      taskRolePolicyArns: vars.taskRolePolicyArns.listValue,
      ephemeralStorageGib: vars.ephemeralStorageGib.numberValue,
      enableExecuteCommand: vars.enableExecuteCommand.booleanValue,
      // An environment's notebook user policy lets its users create roles with this boundary only.
      keepSuffix: spec.keepSuffix,
      rolePermissionsBoundary:
        spec.environment === LOCAL_ENVIRONMENT ? undefined : roleBoundaryArn(this.platform.partitionName, this.platform.accountId, spec.environment),
    }));

    new TerraformOutput(this, "url", {
      value: notebook.url,
      sensitive: true,
      description: "Notebook URL with the access token: open it in a browser (npm run url prints it).",
    });
    new TerraformOutput(this, "notebook_url", {
      value: notebook.notebookUrl,
      description: "Notebook URL without the token.",
    });
    new TerraformOutput(this, "hostname", { value: notebook.hostname, description: "Notebook hostname." });
    new TerraformOutput(this, "sign_in_callback_url", {
      value: notebook.signInCallbackUrl,
      description: "Callback URL to allow in the Cognito or OIDC app client when sign-in is on.",
    });
    new TerraformOutput(this, "token_secret_arn", {
      value: notebook.tokenSecret.arn,
      description: "Secrets Manager secret holding the token (aws secretsmanager get-secret-value --secret-id ...).",
    });
    new TerraformOutput(this, "service_name", { value: notebook.service.name, description: "ECS service of the notebook." });
    new TerraformOutput(this, "cluster_name", { value: this.platform.clusterName, description: "ECS cluster the notebook runs on." });
    new TerraformOutput(this, "log_group_name", { value: notebook.logGroup.name, description: "CloudWatch log group of the notebook's container." });
    new TerraformOutput(this, "security_group_id", {
      value: notebook.securityGroup.id,
      description: "Security group of the notebook's task: admit it in a database's group to let the notebook reach it.",
    });
  }
}

/** How an administrator gives an environment accelerated capacity, for the message that refuses an accelerator without it. */
function noCapacityHint(environment: string): string {
  const how =
    environment === LOCAL_ENVIRONMENT
      ? "an administrator sets localAccelerators to true in cdktf.json and deploys the accelerators stack"
      : `an administrator sets accelerators to true for environment ${environment} in cdktf.json and deploys accelerators-${environment}`;
  return `${how} (README, Accelerated notebooks), or set accelerator to none.`;
}
