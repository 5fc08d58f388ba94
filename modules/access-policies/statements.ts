import { Fn } from "cdktf";

/**
 * The statements of the access policies (see index.ts), as plain objects for jsonencode().
 * Values may hold Terraform references (the account, the partition, the bucket's ARN).
 */

/**
 * An IAM policy variable, `${name}` in the policy AWS receives. Terraform builds it from
 * "$" and the rest: a `$${...}` escape is mangled by cdktf inside jsonencode() and in HCL.
 */
function policyVariable(name: string): string {
  return Fn.format(`%s{${name}}`, ["$"]);
}

/** The principal tag that names a notebook user; NOTEBOOK_USER must equal its value. */
export const USER_TAG = "NotebookUser";
/** The tag every notebook resource carries (the stack's default tags): its user's name. */
export const OWNER_TAG = "Owner";
/** The person's notebook user name, as IAM evaluates it. */
export const PRINCIPAL_USER = policyVariable(`aws:PrincipalTag/${USER_TAG}`);
/** In the role boundary: the role's own Owner tag (a role's tags are its principal tags). */
const ROLE_OWNER = policyVariable(`aws:PrincipalTag/${OWNER_TAG}`);

export type Statement = Record<string, unknown> & { Sid: string; Effect: "Allow" | "Deny" };

export interface DeployStatementsProps {
  /** `arn:<partition>:` of the account's partition. */
  readonly partition: string;
  readonly account: string;
  readonly stateBucketArn: string;
  /** `<prefix>/<env>/`: where the environment's notebook states live in the bucket. */
  readonly statePrefix: string;
  /** Keys of the environment's platform and accelerators stack states, whose outputs notebook stacks read. */
  readonly administratorStateKeys: string[];
  /** ARN of the boundary every notebook role must carry. */
  readonly boundaryArn: string;
  /** Managed policies a notebook role may have attached: the execution policy and the administrator's choice. */
  readonly attachablePolicyArns: string[];
  /**
   * Whose notebooks: the person's own (their NotebookUser principal tag), or everyone's
   * (the administrator's team roll-out).
   */
  readonly who: "own" | "everyone";
}

/** Tagging actions of the services a notebook uses: [adding, removing] per service. */
const TAGGING: Array<[string, string]> = [
  ["ecs:TagResource", "ecs:UntagResource"],
  ["secretsmanager:TagResource", "secretsmanager:UntagResource"],
  ["logs:TagResource", "logs:UntagResource"],
  ["logs:TagLogGroup", "logs:UntagLogGroup"],
  ["iam:TagRole", "iam:UntagRole"],
  ["ec2:CreateTags", "ec2:DeleteTags"],
  ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
  ["elasticfilesystem:TagResource", "elasticfilesystem:UntagResource"],
];
const TAG_ACTIONS = TAGGING.map(([tag]) => tag);
const UNTAG_ACTIONS = TAGGING.map(([, untag]) => untag);

/**
 * What deploying, updating, reading and destroying notebooks takes, in two parts (one
 * managed policy holds at most 6,144 characters): the state, the platform reads and the
 * roles; then the notebook's other resources and the guards on their Owner tag: the whole lifecycle of
 * `notebook-<env>` stacks, their states, and `npm run url` / `status`. With `who: "own"`,
 * every resource is limited to those whose Owner tag is the person's NotebookUser tag
 * (created with it, and never re-tagged to someone else), and the state to their own prefix.
 */
export function deployStatements(props: DeployStatementsProps): { stateAndRoles: Statement[]; resources: Statement[] } {
  const own = props.who === "own";
  const { partition, account } = props;
  const arn = (service: string, resource: string, region = "*") => `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const userPrefix = own ? `${props.statePrefix}${PRINCIPAL_USER}/` : props.statePrefix;
  /** The resource is theirs (its Owner tag), or, for the administrator, anybody's. */
  const ownedCondition = (): Conditions => (own ? { StringEquals: { [`aws:ResourceTag/${OWNER_TAG}`]: PRINCIPAL_USER } } : {});
  const owned = () => (own ? { Condition: ownedCondition() } : {});
  /** Created with the person's name in Owner (the administrator: with some Owner). */
  const createdOwned = (extra: Conditions = {}) => ({
    Condition: merge(
      extra,
      own ? { StringEquals: { [`aws:RequestTag/${OWNER_TAG}`]: PRINCIPAL_USER } } : { Null: { [`aws:RequestTag/${OWNER_TAG}`]: "false" } },
    ),
  });
  const secrets = [arn("secretsmanager", "secret:*/jupyter-token-*"), arn("secretsmanager", "secret:*/git-token-*")];
  // The pattern covers the log group's ARN with and without the `:*` some calls add.
  const logGroups = arn("logs", "log-group:/ecs/notebook/*");
  const roles = [`arn:${partition}:iam::${account}:role/*-execution`, `arn:${partition}:iam::${account}:role/*-task`];
  const services = arn("ecs", "service/*/*");
  const taskDefinitions = arn("ecs", "task-definition/*");
  const securityGroups = `arn:${partition}:ec2:*:${account}:security-group/*`;
  const targetGroups = arn("elasticloadbalancing", "targetgroup/*/*");
  const listeners = arn("elasticloadbalancing", "listener/app/*/*/*");
  const listenerRules = arn("elasticloadbalancing", "listener-rule/app/*/*/*/*");
  const fileSystems = arn("elasticfilesystem", "file-system/*");
  const accessPoints = arn("elasticfilesystem", "access-point/*");
  const boundary = { "iam:PermissionsBoundary": props.boundaryArn };

  const stateAndRoles: Statement[] = [
    // State: the object and its lock file under <prefix>/<env>/<user>/, and listing only there.
    // Listing also the administrator states' exact keys makes S3 answer a missing one with
    // 404 rather than 403 (it checks s3:ListBucket with the key as s3:prefix). Terraform
    // refuses a missing state either way; the 404 makes its error say "No stored state"
    // instead of a Forbidden that reads like a permissions problem.
    {
      Sid: "ListOwnStatePrefix",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: props.stateBucketArn,
      Condition: { StringLike: { "s3:prefix": `${userPrefix}*` } },
    },
    {
      Sid: "ListAdministratorStates",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: props.stateBucketArn,
      Condition: { StringEquals: { "s3:prefix": props.administratorStateKeys } },
    },
    {
      Sid: "ReadWriteOwnState",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: `${props.stateBucketArn}/${userPrefix}*`,
    },
    // The platform stack's outputs (cluster, network, load balancers) and the accelerators
    // stack's (capacity providers), read by every notebook.
    {
      Sid: "ReadAdministratorStates",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: props.administratorStateKeys.map((key) => `${props.stateBucketArn}/${key}`),
    },
    // The platform is read, never changed; these reads take no narrower resource.
    {
      Sid: "ReadSharedPlatform",
      Effect: "Allow",
      Action: [
        "ecs:DescribeClusters",
        "ecs:DescribeTaskDefinition",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeNetworkInterfaces",
        "route53:GetHostedZone",
        "route53:ListResourceRecordSets",
        "route53:ListTagsForResource",
        "route53:GetChange",
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeAccessPoints",
        "elasticfilesystem:DescribeMountTargets",
        "logs:DescribeLogGroups",
        "cognito-idp:DescribeUserPoolClient",
        // Counting the notebooks on each of a platform's load balancers (placement).
        "tag:GetResources",
      ],
      Resource: "*",
    },
    // The two roles: always with the notebook role boundary, which caps whatever policy they get.
    { Sid: "CreateOwnRolesWithBoundary", Effect: "Allow", Action: "iam:CreateRole", Resource: roles, ...createdOwned({ StringEquals: boundary }) },
    { Sid: "TagOwnRolesOnCreate", Effect: "Allow", Action: "iam:TagRole", Resource: roles, ...createdOwned() },
    {
      Sid: "GrantOwnRolesWithinBoundary",
      Effect: "Allow",
      Action: ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary"],
      Resource: roles,
      Condition: merge({ StringEquals: boundary }, ownedCondition()),
    },
    {
      Sid: "AttachChosenPoliciesToOwnRoles",
      Effect: "Allow",
      Action: "iam:AttachRolePolicy",
      Resource: roles,
      Condition: merge({ StringEquals: boundary, ArnEquals: { "iam:PolicyARN": props.attachablePolicyArns } }, ownedCondition()),
    },
    {
      Sid: "PassOwnRolesToEcsTasks",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: roles,
      Condition: merge({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }, ownedCondition()),
    },
    // ECS authorizes this on every task definition at once.
    { Sid: "DeregisterTaskDefinitions", Effect: "Allow", Action: "ecs:DeregisterTaskDefinition", Resource: "*" },
    // A security group is created in a VPC, which is not the user's.
    { Sid: "CreateSecurityGroupsInVpcs", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: `arn:${partition}:ec2:*:${account}:vpc/*` },
    // DNS: records carry no tags; CNAMEs shaped like a notebook's hostname only.
    {
      Sid: "ChangeNotebookRecords",
      Effect: "Allow",
      Action: "route53:ChangeResourceRecordSets",
      Resource: `arn:${partition}:route53:::hostedzone/*`,
      Condition: {
        "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": "CNAME" },
        "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": "*-????????.*" },
      },
    },
  ];

  const resources: Statement[] = [
    // Created with the person's name in their Owner tag (the stack's default tags)...
    {
      Sid: "CreateOwnResources",
      Effect: "Allow",
      Action: [
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
        "logs:CreateLogGroup",
        "logs:TagResource",
        "logs:TagLogGroup",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
        "ec2:CreateSecurityGroup",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:CreateRule",
        "elasticfilesystem:CreateAccessPoint",
      ],
      Resource: [...secrets, logGroups, taskDefinitions, services, securityGroups, targetGroups, listeners, fileSystems],
      ...createdOwned(),
    },
    // ...and from then on read, changed and deleted by that owner only.
    {
      Sid: "ManageOwnResources",
      Effect: "Allow",
      Action: [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:DeleteSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:TagLogGroup",
        "logs:UntagLogGroup",
        "logs:DeleteLogGroup",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateRoleDescription",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRole",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:ListTagsForResource",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:DeleteSecurityGroup",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticfilesystem:DeleteAccessPoint",
        "elasticfilesystem:ListTagsForResource",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:UntagResource",
      ],
      Resource: [...secrets, logGroups, ...roles, services, taskDefinitions, securityGroups, targetGroups, listenerRules, accessPoints],
      ...owned(),
    },
    // Services that tag in a second call at creation say which call: only then may the new
    // resource (without an Owner yet) be tagged.
    {
      Sid: "TagEcsOnCreate",
      Effect: "Allow",
      Action: "ecs:TagResource",
      Resource: [services, taskDefinitions],
      ...createdOwned({ StringEquals: { "ecs:CreateAction": ["CreateService", "RegisterTaskDefinition"] } }),
    },
    {
      Sid: "TagSecurityGroupsOnCreate",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: securityGroups,
      ...createdOwned({ StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } }),
    },
    {
      Sid: "TagLoadBalancingOnCreate",
      Effect: "Allow",
      Action: "elasticloadbalancing:AddTags",
      Resource: [targetGroups, listenerRules],
      ...createdOwned({ StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateRule"] } }),
    },
    {
      Sid: "TagAccessPointsOnCreate",
      Effect: "Allow",
      Action: "elasticfilesystem:TagResource",
      Resource: accessPoints,
      ...createdOwned({ StringEquals: { "elasticfilesystem:CreateAction": "CreateAccessPoint" } }),
    },
  ];
  if (own) {
    resources.push(
      // The Owner tag is what every grant above checks: nobody re-labels a resource as
      // theirs, gives one away, or removes the label.
      {
        Sid: "DenyTaggingOthersResources",
        Effect: "Deny",
        Action: [...TAG_ACTIONS, ...UNTAG_ACTIONS],
        Resource: "*",
        Condition: { StringNotEquals: { [`aws:ResourceTag/${OWNER_TAG}`]: PRINCIPAL_USER }, Null: { [`aws:ResourceTag/${OWNER_TAG}`]: "false" } },
      },
      {
        Sid: "DenyOwnerOtherThanSelf",
        Effect: "Deny",
        Action: TAG_ACTIONS,
        Resource: "*",
        Condition: { StringNotEquals: { [`aws:RequestTag/${OWNER_TAG}`]: PRINCIPAL_USER }, Null: { [`aws:RequestTag/${OWNER_TAG}`]: "false" } },
      },
      {
        Sid: "DenyRemovingOwner",
        Effect: "Deny",
        Action: UNTAG_ACTIONS,
        Resource: "*",
        Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": OWNER_TAG } },
      },
    );
  }
  return { stateAndRoles, resources };
}

/**
 * The permissions boundary of every notebook role: what a notebook's execution and task
 * roles may ever do, whatever policy their user gives them. Its own statements cover the
 * notebook's needs, each on the role owner's resources where the service allows it; the
 * statements of the managed policies the administrator lets users attach follow (index.ts).
 */
export function boundaryStatements(props: { partition: string; account: string }): Statement[] {
  // format(), not a template string: a string with a reference inside concat() makes cdktf warn.
  const logGroups = Fn.format("arn:%s:logs:*:%s:log-group:/ecs/notebook/*", [props.partition, props.account]);
  const ownedByRoleOwner = { Condition: { StringEquals: { [`aws:ResourceTag/${OWNER_TAG}`]: ROLE_OWNER } } };
  return [
    {
      Sid: "NotebookPullImages",
      Effect: "Allow",
      Action: ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
      Resource: "*",
    },
    { Sid: "NotebookWriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: logGroups },
    { Sid: "NotebookFindLogGroups", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
    { Sid: "NotebookReadOwnersSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*", ...ownedByRoleOwner },
    { Sid: "NotebookScaleOwnersServices", Effect: "Allow", Action: "ecs:UpdateService", Resource: "*", ...ownedByRoleOwner },
    {
      Sid: "NotebookMountThroughAccessPoints",
      Effect: "Allow",
      Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
      Resource: "*",
      Condition: { Null: { "elasticfilesystem:AccessPointArn": "false" } },
    },
    {
      Sid: "NotebookEcsExec",
      Effect: "Allow",
      Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
      Resource: "*",
    },
  ];
}

type Conditions = Record<string, Record<string, unknown>>;

/** Conditions merged operator by operator. */
function merge(...conditions: Conditions[]): Conditions {
  const out: Conditions = {};
  for (const condition of conditions) for (const [op, keys] of Object.entries(condition)) out[op] = { ...(out[op] ?? {}), ...keys };
  return out;
}
