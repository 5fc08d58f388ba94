import { Construct } from "constructs";
import { conditional, Fn, IResolvable, Op, Token } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Password } from "@cdktf/provider-random/lib/password";
import { StringResource } from "@cdktf/provider-random/lib/string-resource";
import { NotebookCompute, NotebookComputeProps } from "./compute";
import { NotebookPlatform } from "./platform";
import { PersistentHome } from "./persistent-home";
import { NOTEBOOK_PORT, SUFFIX_LENGTH } from "./constants";
import { NotebookRoles } from "./roles";
import { NotebookRouting } from "./routing";
import { NotebookSecrets } from "./secrets";
import { NotebookService, PlacementCheck } from "./service";
import { isEmpty, not, once, or } from "../platform/conditions";
import { SignInProps } from "./sign-in";
import { NotebookTaskDefinition } from "./task-definition";

export { DEFAULT_FARGATE_CPU, DEFAULT_FARGATE_MEMORY, NotebookCompute } from "./compute";
export type { NotebookComputeProps } from "./compute";
export { CONTAINER_NAME, MAX_HOSTNAME_LENGTH, NOTEBOOK_PORT, SUFFIX_LENGTH } from "./constants";

/** Shortest token accepted; shorter ones are guessable. */
export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 256;
/** Characters that need no escaping in the notebook URL's query string. */
export const TOKEN_CHARACTERS = "^[A-Za-z0-9._~-]+$";

/**
 * Longest hostname prefix whose names fit every AWS limit: the target group name
 * `<prefix>-<suffix>` may have at most 32 characters.
 */
export const MAX_HOSTNAME_PREFIX_LENGTH = 32 - 1 - SUFFIX_LENGTH;
/** A lower-case DNS label of at most MAX_HOSTNAME_PREFIX_LENGTH characters. */
export const HOSTNAME_PREFIX_PATTERN = `^[a-z0-9]([a-z0-9-]{0,${MAX_HOSTNAME_PREFIX_LENGTH - 2}}[a-z0-9])?$`;

export interface NotebookProps {
  /** The team's cluster, load balancer, listener, zone and VPC. */
  readonly platform: NotebookPlatform;
  /** Subnets the notebook task runs in (at least one). */
  readonly subnets: string[];
  /**
   * Where and on what the notebook runs: Fargate or an accelerated instance, its cpu, memory,
   * devices and image (see NotebookComputeProps for each and its default).
   */
  readonly compute: NotebookComputeProps;
  /**
   * The stack whose accelerated capacity the notebook uses (`platform-<env>` or
   * `accelerators-<env>`), named when it offers no capacity for the notebook's instance type.
   * @default none: the environment offers no accelerated capacity
   */
  readonly acceleratorCapacityStack?: string;
  /**
   * Where that stack's capacity is, when it says so (an accelerators stack's state): an
   * accelerated notebook checks when planning that its cluster is that one and its subnets
   * are among those. Empty values (unknown) are not checked.
   * @default not checked (a platform's capacity is on the platform's own cluster and subnets)
   */
  readonly acceleratorPlacement?: { readonly clusterName: string; readonly subnetIds: string[] };
  /**
   * Jupyter access token. Undefined, an empty string, or an expression that evaluates to
   * one means a 32-character token is generated. Its rules are the caller's to check.
   * @default a generated token
   */
  readonly token?: string;
  /**
   * Domain the notebook's hostname is created under. Empty means the hosted zone's name.
   * @default the hosted zone's name
   */
  readonly domain?: string;
  /**
   * First part of the hostname and of every resource name: `<prefix>-<suffix>`.
   * @default "jupyter"
   */
  readonly hostnamePrefix?: string;
  /**
   * Source CIDRs (IPv4 or IPv6) the listener rule forwards; others get the listener's default action.
   * @default every IPv4 and IPv6 address
   */
  readonly allowedCidrs?: string[];
  /**
   * Give the task a public IP, needed in public subnets without a NAT gateway to pull the image.
   * @default false
   */
  readonly assignPublicIp?: boolean | IResolvable;
  /**
   * Days CloudWatch keeps the notebook's logs (0: forever).
   * @default 30 days of log retention
   */
  readonly logRetentionDays?: number;
  /**
   * Minutes without activity after which the notebook image stops the server and sets the
   * service's desired count to 0 (0: never). Needs the image from notebook-image/.
   * @default 120
   */
  readonly idleTimeoutMinutes?: number;
  /**
   * https URL of a git repository cloned into the work directory when the notebook starts
   * (empty: none). Needs the image from notebook-image/.
   * @default no repository
   */
  readonly gitRepositoryUrl?: string;
  /**
   * Token for a private repository, kept in Secrets Manager and injected as
   * NOTEBOOK_GIT_TOKEN (empty: none).
   * @default no token
   */
  readonly gitToken?: string;
  /** The notebook's owner (a DNS label): names the persistent home's directory. */
  readonly owner: string;
  /**
   * Security group the task joins to reach the platform's EFS file system (which must admit
   * NFS from it), used when the platform has one.
   * @default none
   */
  readonly efsSecurityGroupId?: string;
  /**
   * Sign-in at the load balancer (Cognito or OIDC) before Jupyter's token.
   * @default no sign-in
   */
  readonly signIn?: SignInProps;
  /**
   * Managed policies attached to the task role (e.g. read access to the team's data).
   * @default none
   */
  readonly taskRolePolicyArns?: string[];
  /**
   * Task storage in GiB (21 to 200) on Fargate; null or undefined for Fargate's default 20.
   * @default Fargate's 20 GiB
   */
  readonly ephemeralStorageGib?: number;
  /**
   * Allow ECS Exec into the notebook (and give the task role what it needs for that).
   * @default false
   */
  readonly enableExecuteCommand?: boolean | IResolvable;
  /**
   * Permissions boundary of the notebook's two roles: with the access policies of
   * modules/access-policies, the environment's notebook role boundary (roleBoundaryArn).
   * @default no boundary
   */
  readonly rolePermissionsBoundary?: string;
  /**
   * A suffix to keep instead of a random one: the suffix of a notebook of the team's old
   * Terraform configuration, imported into the suffix's state at the first deploy (an
   * `import` block), so that its hostname, and the bookmarked URL, stay. Upper-case letters
   * are allowed (the old configuration made them); names use the suffix in lower case.
   * @default a random suffix
   */
  readonly keepSuffix?: string;
}

/**
 * Everything one user's notebook owns, every name derived from one random suffix:
 * token secret, execution role, log group, task definition, security group,
 * target group, ECS service (Fargate, or an accelerated instance), listener rule and DNS record.
 */
export class Notebook extends Construct {
  /** The random suffix shared by every resource name of this notebook. */
  public readonly suffix: StringResource;
  /** The suffix in lower case, as every name uses it. */
  public readonly suffixValue: string;
  /** `<prefix>-<suffix>`: the name of the task family, service, target group, ... */
  public readonly name: string;
  /** Fully qualified hostname, `<prefix>-<suffix>.<domain>`. */
  public readonly hostname: string;
  /** `https://<hostname>/` (with the port when the listener is not on 443). */
  public readonly notebookUrl: string;
  /** `https://<hostname>/?token=<token>`: sensitive. */
  public readonly url: string;
  /** Where a sign-in provider sends the user back: register it with the app client. */
  public readonly signInCallbackUrl: string;
  public readonly generatedToken: Password;
  /** The git token's secret: one instance when a git token is given, none otherwise. */
  public readonly gitTokenSecret: SecretsmanagerSecret;
  /** Role of the running notebook: may set its own service's desired count, nothing else. */
  public readonly taskRole: IamRole;
  public readonly tokenSecret: SecretsmanagerSecret;
  public readonly executionRole: IamRole;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly securityGroup: SecurityGroup;
  public readonly targetGroup: LbTargetGroup;
  public readonly listenerRule: LbListenerRule;
  public readonly service: EcsService;
  public readonly dnsRecord: Route53Record;
  /** The execution role and the task role, with their policies. */
  public readonly roles: NotebookRoles;
  /** The token and git token, in Secrets Manager. */
  public readonly secrets: NotebookSecrets;
  /** Target group, listener rule and DNS record: how requests reach the notebook. */
  public readonly routing: NotebookRouting;
  /** The owner's work directory on EFS (resources with count 0 without a file system). */
  public readonly home: PersistentHome;
  /** Fargate or an accelerated instance: the task's size, devices, image and capacity. */
  public readonly compute: NotebookCompute;

  constructor(scope: Construct, id: string, props: NotebookProps) {
    super(scope, id);
    const platform = props.platform;
    const domainInput = props.domain ?? "";
    const hostnamePrefix = props.hostnamePrefix ?? "jupyter";
    const allowedCidrs = props.allowedCidrs ?? ["0.0.0.0/0", "::/0"];
    const assignPublicIp = props.assignPublicIp ?? false;
    const logRetentionDays = props.logRetentionDays ?? 30;
    const idleTimeoutMinutes = props.idleTimeoutMinutes ?? 120;
    const gitRepositoryUrl = props.gitRepositoryUrl ?? "";
    const gitToken = props.gitToken ?? "";
    const compute = (this.compute = new NotebookCompute(this, "compute", props.compute));
    const enableExecuteCommand = props.enableExecuteCommand ?? false;
    checkHostnamePrefix(hostnamePrefix);

    this.suffix = new StringResource(this, "suffix", {
      length: SUFFIX_LENGTH,
      upper: false,
      special: false,
      numeric: true,
      // A suffix imported from the old configuration (keepSuffix) comes with the random
      // provider's import defaults (upper, special, ... true): they must not replace it.
      lifecycle: { ignoreChanges: ["upper", "lower", "numeric", "special", "min_upper", "min_lower", "min_numeric", "min_special"] },
    });
    if (props.keepSuffix !== undefined) {
      if (!new RegExp(`^[A-Za-z0-9]{${SUFFIX_LENGTH}}$`).test(props.keepSuffix)) {
        throw new Error(`keepSuffix must be ${SUFFIX_LENGTH} letters and digits, got ${JSON.stringify(props.keepSuffix)}`);
      }
      this.suffix.importFrom(props.keepSuffix);
    }
    // Lower case: resource names need it, and a kept suffix may have upper-case letters
    // (hostnames are case-insensitive, so its old URL still reaches the notebook).
    this.suffixValue = Fn.lower(this.suffix.result);
    this.name = `${hostnamePrefix}-${this.suffixValue}`;
    // coalesce() skips empty strings: an empty domain means the zone's name.
    const domain = Fn.coalesce([domainInput, platform.zoneName]);
    this.hostname = `${this.name}.${domain}`;
    const listenerPort = platform.listenerPort;
    const portSuffix = conditional(Op.eq(listenerPort, 443), "", Fn.format(":%d", [listenerPort]));
    this.notebookUrl = `https://${this.hostname}${portSuffix}/`;
    this.signInCallbackUrl = `https://${this.hostname}${portSuffix}/oauth2/idpresponse`;

    this.secrets = new NotebookSecrets(this, "secrets", { owner: this, name: this.name, token: props.token, gitToken });
    this.generatedToken = this.secrets.generatedToken;
    this.tokenSecret = this.secrets.tokenSecret;
    this.gitTokenSecret = this.secrets.gitTokenSecret;
    const { tokenValue, gitTokenValue, gitSecretArns } = this.secrets;
    this.url = `${this.notebookUrl}?token=${this.secrets.token}`;

    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      name: `/ecs/notebook/${this.name}`,
      retentionInDays: logRetentionDays,
    });

    this.roles = new NotebookRoles(this, "roles", {
      owner: this,
      platform,
      name: this.name,
      secretArns: Token.asList(Fn.concat([[this.tokenSecret.arn], gitSecretArns])),
      logGroup: this.logGroup,
      taskRolePolicyArns: props.taskRolePolicyArns,
      enableExecuteCommand,
      permissionsBoundary: props.rolePermissionsBoundary,
    });
    this.executionRole = this.roles.executionRole;
    this.taskRole = this.roles.taskRole;
    const { managedPolicy, readSecrets, executeCommandPolicy } = this.roles;

    this.securityGroup = new SecurityGroup(this, "security_group", {
      name: this.name,
      description: `Notebook ${this.name}: Jupyter port from the load balancer only`,
      vpcId: platform.vpcId,
      ingress: [
        {
          description: "Jupyter from the load balancer",
          protocol: "tcp",
          fromPort: NOTEBOOK_PORT,
          toPort: NOTEBOOK_PORT,
          securityGroups: platform.loadBalancerSecurityGroups,
        },
      ],
      egress: [
        {
          description: "image pulls, package installs, AWS APIs",
          protocol: "-1",
          fromPort: 0,
          toPort: 0,
          cidrBlocks: ["0.0.0.0/0"],
          ipv6CidrBlocks: ["::/0"],
        },
      ],
    });

    this.home = new PersistentHome(this, "home", {
      platform,
      owner: props.owner,
      efsSecurityGroupId: props.efsSecurityGroupId ?? "",
      taskRole: this.taskRole,
    });

    this.taskDefinition = new NotebookTaskDefinition(this, "task", {
      owner: this,
      platform,
      family: this.name,
      serviceName: Fn.join("-", [hostnamePrefix, this.suffixValue]),
      compute,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      logGroup: this.logGroup,
      home: this.home,
      secrets: this.secrets,
      idleTimeoutMinutes,
      gitRepositoryUrl,
      ephemeralStorageGib: props.ephemeralStorageGib,
      // The first task must find the token's value and the permission to read it.
      dependsOn: [tokenValue, gitTokenValue, managedPolicy, readSecrets],
    }).resource;

    this.routing = new NotebookRouting(this, "routing", {
      owner: this,
      platform,
      name: this.name,
      hostname: this.hostname,
      hostnamePrefix,
      domain,
      allowedCidrs,
      signIn: props.signIn,
      waker: { clusterArn: platform.clusterArn, serviceName: this.name, tokenSecretArn: this.tokenSecret.arn },
    });
    this.targetGroup = this.routing.targetGroup;
    this.listenerRule = this.routing.listenerRule;
    this.dnsRecord = this.routing.dnsRecord;

    this.service = new NotebookService(this, "ecs_service", {
      owner: this,
      platform,
      name: this.name,
      taskDefinition: this.taskDefinition,
      subnets: props.subnets,
      // With EFS, also the client group the mount targets admit NFS from (see PersistentHome).
      securityGroupIds: Token.asList(Fn.concat([[this.securityGroup.id], this.home.securityGroupIds])),
      assignPublicIp,
      targetGroup: this.targetGroup,
      listenerRule: this.listenerRule,
      compute,
      capacityMissingMessage: capacityMissingMessage(compute, props.compute.capacityProviderNames ?? {}, props.acceleratorCapacityStack),
      placementChecks: placementChecks(compute, platform.clusterName, props.subnets, props.acceleratorPlacement, props.acceleratorCapacityStack),
      enableExecuteCommand,
      secrets: this.secrets,
      // ECS refuses a target group that no listener forwards to yet; the first task needs
      // its EFS mount permission and, with Exec, its SSM permissions.
      dependsOn: [this.listenerRule, this.home.mountPolicy, executeCommandPolicy],
    }).resource;
    this.roles.allowScalingOwnService(this.service);
  }
}

/**
 * The precondition's message when the environment offers no capacity for the notebook's
 * instance type: what it offers, and who adds more.
 */
function capacityMissingMessage(compute: NotebookCompute, names: Record<string, string>, stack: string | undefined): string {
  if (stack === undefined) {
    return Fn.format("instance_type %s: this environment has no accelerated capacity; run the notebook without accelerator.", [compute.instanceType]);
  }
  const offered = Fn.join(", ", Fn.keys(names));
  return Fn.format(
    `instance_type %s has no capacity in ${stack}, which offers %s: choose one of those, or ask an administrator to add %s to accelerator_instance_types and deploy ${stack}.`,
    [
      compute.instanceType,
      conditional(Op.gte(Fn.lengthOf(Fn.keys(names)), 1), offered, "none (its accelerator_instance_types is empty, or it was destroyed)"),
      compute.instanceType,
    ],
  );
}

/**
 * The checks that an accelerated notebook runs where its capacity is: on the cluster the
 * accelerators stack added it to (a capacity provider works in its own cluster only), in
 * subnets among the ones its instances run in (README, Accelerated notebooks).
 */
function placementChecks(
  compute: NotebookCompute,
  clusterName: string,
  subnets: string[],
  placement: NotebookProps["acceleratorPlacement"],
  stack: string | undefined,
): PlacementCheck[] {
  if (placement === undefined || stack === undefined) return [];
  const { clusterName: capacityCluster, subnetIds: capacitySubnets } = placement;
  const checks: PlacementCheck[] = [
    {
      condition: or(not(compute.accelerated), or(isEmpty(capacityCluster), once(Op.eq(capacityCluster, clusterName)))),
      errorMessage: Fn.format(
        `ecs_cluster_name is %s, but ${stack} added its accelerated capacity to cluster %s (a capacity provider serves its own cluster only): set ecs_cluster_name to %s, or set accelerator to none.`,
        [clusterName, capacityCluster, capacityCluster],
      ),
    },
    {
      condition: or(
        not(compute.accelerated),
        or(once(Op.lt(Fn.lengthOf(capacitySubnets), 1)), once(Op.lt(Fn.lengthOf(Fn.setsubtract(subnets, capacitySubnets)), 1))),
      ),
      errorMessage: Fn.format(
        `fargate_subnets has %s, which ${stack}'s instances do not run in (its subnet_ids: %s): an accelerated notebook uses those subnets; set fargate_subnets to them, or ask an administrator to add yours to ${stack}'s subnet_ids.`,
        [Fn.join(", ", Fn.sort(Fn.setsubtract(subnets, capacitySubnets))), Fn.join(", ", capacitySubnets)],
      ),
    },
  ];
  return checks.filter((check) => check.condition !== true);
}

/** Throws early for a literal prefix that cannot work; Terraform expressions are checked by the variable's validation. */
function checkHostnamePrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (!new RegExp(HOSTNAME_PREFIX_PATTERN).test(prefix)) {
    throw new Error(`hostnamePrefix "${prefix}" is not valid: expected a lower-case DNS label of at most ${MAX_HOSTNAME_PREFIX_LENGTH} characters`);
  }
}
