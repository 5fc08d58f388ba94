import { runSimulation } from "@cloud-copilot/iam-simulate";
import { synthStack } from "./helpers/synth";
import { describeWithTerraform, evaluateExpressions } from "./helpers/terraform";

// The notebook's IAM policies, as AWS receives them (rendered by the real terraform with
// plausible values), evaluated with an offline implementation of AWS's policy logic:
// what they allow, and what they must not.

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "999988887777";
const REGION = "eu-west-1";

async function decide(request: { principal: string; action: string; resource: string; context: Record<string, string> }, policies: { resource?: unknown; identity?: unknown }) {
  const result = await runSimulation(
    {
      request: { principal: request.principal, action: request.action, resource: { resource: request.resource, accountId: ACCOUNT }, contextVariables: request.context },
      identityPolicies: policies.identity ? [{ name: "inline", policy: policies.identity }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policies.resource,
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

describeWithTerraform("IAM policies of a notebook, evaluated", () => {
  const { json } = synthStack("notebook");
  const role = (suffix: string) => Object.entries<any>(json.resource.aws_iam_role).find(([id]) => id.startsWith(`notebook_${suffix}_`))![1];
  const tokenSecret = Object.keys(json.resource.aws_secretsmanager_secret).find((id) => id.startsWith("notebook_token_secret_"))!;
  const gitSecret = Object.keys(json.resource.aws_secretsmanager_secret).find((id) => id.startsWith("notebook_git_token_secret_"))!;
  const readSecrets = Object.values<any>(json.resource.aws_iam_role_policy).find((p) => p.name === "read-own-secrets");
  const OWN_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:jupyter-ab12cd34/jupyter-token-AbCdEf`;
  const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:jupyter-zz99yy88/jupyter-token-GhIjKl`;
  let policies: Record<string, any>;

  beforeAll(async () => {
    const rendered = await evaluateExpressions(
      { execution_trust: role("execution_role").assume_role_policy, task_trust: role("task_role").assume_role_policy, read_secrets: readSecrets.policy },
      [
        [/data\.aws_caller_identity\.[A-Za-z0-9_]+\.account_id/g, "local.account"],
        [/data\.aws_partition\.[A-Za-z0-9_]+\.partition/g, "local.partition"],
        [/data\.aws_region\.[A-Za-z0-9_]+\.region/g, "local.region"],
        [new RegExp(`aws_secretsmanager_secret\\.${tokenSecret}\\.arn`, "g"), "local.token_secret"],
        [new RegExp(`aws_secretsmanager_secret\\.${gitSecret}\\[\\*\\]\\.arn`, "g"), "[]"],
      ],
      { account: ACCOUNT, partition: "aws", region: REGION, token_secret: OWN_SECRET },
    );
    policies = Object.fromEntries(Object.entries(rendered).map(([k, v]) => [k, JSON.parse(v as string)]));
  }, 60_000);

  const assume = (roleName: string, sourceAccount: string, sourceArn?: string) => ({
    principal: "ecs-tasks.amazonaws.com",
    action: "sts:AssumeRole",
    resource: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    context: { "aws:SourceAccount": sourceAccount, ...(sourceArn ? { "aws:SourceArn": sourceArn } : {}) },
  });

  test("ECS acting for this account may assume the execution role; ECS acting for another account may not", async () => {
    const trust = { resource: policies.execution_trust };
    expect(await decide(assume("jupyter-ab12cd34-execution", ACCOUNT), trust)).toBe("Allowed");
    expect(await decide(assume("jupyter-ab12cd34-execution", OTHER_ACCOUNT), trust)).toBe("ImplicitlyDenied");
  });

  test("ECS tasks of this account and region may assume the task role; of another account or region, or unnamed, may not", async () => {
    const trust = { resource: policies.task_trust };
    const task = (account: string, region = REGION) => `arn:aws:ecs:${region}:${account}:task/data-science/0123456789abcdef`;
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT, task(ACCOUNT)), trust)).toBe("Allowed");
    expect(await decide(assume("jupyter-ab12cd34-task", OTHER_ACCOUNT, task(OTHER_ACCOUNT)), trust)).toBe("ImplicitlyDenied");
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT, task(ACCOUNT, "us-east-1")), trust)).toBe("ImplicitlyDenied");
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT), trust)).toBe("ImplicitlyDenied");
  });

  test("the execution role reads its own notebook's token, and no other secret", async () => {
    const identity = { identity: policies.read_secrets };
    const read = (secret: string) => ({ principal: `arn:aws:iam::${ACCOUNT}:role/jupyter-ab12cd34-execution`, action: "secretsmanager:GetSecretValue", resource: secret, context: {} });
    expect(await decide(read(OWN_SECRET), identity)).toBe("Allowed");
    expect(await decide(read(OTHER_SECRET), identity)).toBe("ImplicitlyDenied");
    const write = { ...read(OWN_SECRET), action: "secretsmanager:PutSecretValue" };
    expect(await decide(write, identity)).toBe("ImplicitlyDenied");
  });
});
