import { Construct } from "constructs";
import { Fn, TerraformIterator, Token } from "cdktf";
import { DataAwsIamPolicy } from "@cdktf/provider-aws/lib/data-aws-iam-policy";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { boundaryStatements, deployStatements } from "./statements";

export { OWNER_TAG, USER_TAG } from "./statements";

/** IAM path of every policy this project creates. */
export const ACCESS_POLICY_PATH = "/jupyter-notebooks/";

/** Names of an environment's three policies (unique in the account: the environment is in each). */
export function accessPolicyNames(environment: string) {
  const base = `jupyter-notebooks-${environment}`;
  return {
    user: `${base}-user`,
    userResources: `${base}-user-resources`,
    administrator: `${base}-administrator`,
    administratorResources: `${base}-administrator-resources`,
    roleBoundary: `${base}-role-boundary`,
  };
}

/** ARN of an environment's notebook role boundary, which every notebook role of that environment carries. */
export function roleBoundaryArn(partition: string, account: string, environment: string): string {
  return `arn:${partition}:iam::${account}:policy${ACCESS_POLICY_PATH}${accessPolicyNames(environment).roleBoundary}`;
}

function policyDocument(statements: unknown[]): string {
  return Fn.jsonencode({ Version: "2012-10-17", Statement: statements });
}

export interface NotebookAccessPoliciesProps {
  /** The environment's name: in the policies' names and in its state prefix. */
  readonly environment: string;
  readonly partition: string;
  readonly account: string;
  /** ARN of the bucket holding the environment's states. */
  readonly stateBucketArn: string;
  /** `<prefix>/<env>/`: the environment's states; each user's under `<user>/`. */
  readonly statePrefix: string;
  /** Keys of the environment's platform and accelerators stack states in that bucket: notebooks read their outputs. */
  readonly administratorStateKeys: string[];
  /**
   * Managed policies users may attach to their notebooks' task roles (the vars file's
   * `task_role_policy_arns`); their statements join the role boundary.
   * @default none
   */
  readonly taskRolePolicyArns?: string[];
}

/**
 * An environment's access model, three managed policies (the first two in two parts each):
 * - the notebook user policy: deploy, update, read and destroy one's own notebooks (the
 *   person's NotebookUser principal tag names them) and nothing of anyone else's;
 * - the administrator policy: the same for every user's notebooks (the team roll-out);
 * - the notebook role boundary: the most any notebook role may do, whatever policies its
 *   user gives it, so that deploying a notebook never grants more than the notebook needs.
 */
export class NotebookAccessPolicies extends Construct {
  /** The notebook user policy, in two parts (a managed policy holds at most 6,144 characters): attach both. */
  public readonly userPolicies: IamPolicy[];
  /** The administrator policy, in two parts likewise. */
  public readonly administratorPolicies: IamPolicy[];
  public readonly roleBoundary: IamPolicy;
  /** The administrator's choice of task role policies, read to copy their statements into the boundary. */
  public readonly taskRolePolicies: DataAwsIamPolicy;

  constructor(scope: Construct, id: string, props: NotebookAccessPoliciesProps) {
    super(scope, id);
    const names = accessPolicyNames(props.environment);
    const taskRolePolicyArns = props.taskRolePolicyArns ?? [];
    const executionPolicyArn = Fn.format("arn:%s:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", [props.partition]);
    const common = {
      partition: props.partition,
      account: props.account,
      stateBucketArn: props.stateBucketArn,
      statePrefix: props.statePrefix,
      administratorStateKeys: props.administratorStateKeys,
      boundaryArn: roleBoundaryArn(props.partition, props.account, props.environment),
      attachablePolicyArns: Token.asList(Fn.concat([[executionPolicyArn], taskRolePolicyArns])),
    };

    const own = deployStatements({ ...common, who: "own" });
    const everyone = deployStatements({ ...common, who: "everyone" });
    const policy = (id: string, name: string, description: string, statements: unknown[]) =>
      new IamPolicy(this, id, { name, path: ACCESS_POLICY_PATH, description, policy: policyDocument(statements) });
    const env = props.environment;
    this.userPolicies = [
      policy("user", names.user, `Notebook user in ${env}, part 1: own state, platform reads, own notebook roles`, own.stateAndRoles),
      policy("user_resources", names.userResources, `Notebook user in ${env}, part 2: own notebook resources (Owner tag = NotebookUser tag)`, own.resources),
    ];
    this.administratorPolicies = [
      policy(
        "administrator",
        names.administrator,
        `Notebook administrator in ${env}, part 1: every state, platform reads, every notebook role`,
        everyone.stateAndRoles,
      ),
      policy(
        "administrator_resources",
        names.administratorResources,
        `Notebook administrator in ${env}, part 2: every notebook's resources`,
        everyone.resources,
      ),
    ];

    const chosen = TerraformIterator.fromList(Fn.toset(taskRolePolicyArns));
    this.taskRolePolicies = new DataAwsIamPolicy(this, "task_role_policy", { forEach: chosen, arn: Token.asString(chosen.value) });
    // Their statements follow the boundary's own, without Sids (two policies may use the
    // same one; a policy may not).
    const theirStatements = TerraformIterator.fromDataSources(this.taskRolePolicies).forExpressionForList("jsondecode(val.policy).Statement");
    const withoutSids = TerraformIterator.fromList(Fn.flatten(Token.asList(theirStatements))).forExpressionForList(
      '{ for k, v in val : k => v if k != "Sid" }',
    );
    this.roleBoundary = new IamPolicy(this, "role_boundary", {
      name: names.roleBoundary,
      path: ACCESS_POLICY_PATH,
      description: `The most a notebook role in ${props.environment} may do, whatever policy its user gives it`,
      policy: policyDocument(Token.asList(Fn.concat([boundaryStatements({ partition: props.partition, account: props.account }), Token.asList(withoutSids)]))),
    });
  }
}
