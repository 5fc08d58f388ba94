import { Testing } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stateBackendStackSpecs } from "../stacks/stack-specs";
import { StateBackendStack } from "../stacks/state-backend-stack";
import { ACCOUNT, actionExists, actionsOf, concrete, decide, REGION, Request, statementProblems, statementsOf } from "./helpers/iam";
import { startFakeAws } from "./helpers/fake-aws";
import { settingsFor, synthStack } from "./helpers/synth";
import { describeWithTerraform, oneLine, renderPolicies, runTerraform } from "./helpers/terraform";

// The access model of an environment (modules/access-policies), as AWS receives it: the
// policies of the state-backend stack rendered by the real terraform, realistic ARNs put
// in for what only AWS knows, then evaluated with an offline implementation of AWS's policy
// logic. Alice, whose identity carries NotebookUser=alice, against bob's notebook.

const BUCKET = "arn:aws:s3:::acme-nb-state";
const TEAM_DATA_POLICY = `arn:aws:iam::${ACCOUNT}:policy/team-data`;
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/jupyter-notebooks/jupyter-notebooks-dev-role-boundary`;
const EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

const alice = `arn:aws:iam::${ACCOUNT}:user/alice`;
/** The states of the environment's administrator stacks that notebooks read (platform, accelerators). */
const ADMINISTRATOR_STATE_KEYS = ["jupyter-notebooks/_platform/dev/terraform.tfstate", "jupyter-notebooks/_accelerators/dev/terraform.tfstate"];
/** A request by alice, whose identity carries the NotebookUser tag `tag` (alice unless said). */
const byAlice = (action: string, resource: string, context: Record<string, string | string[]> = {}, tag: string | null = "alice"): Request => ({
  principal: alice,
  action,
  resource,
  context: { ...(tag === null ? {} : { "aws:PrincipalTag/NotebookUser": tag }), ...context },
});
const state = (user: string, file = "terraform.tfstate", env = "dev") => `${BUCKET}/jupyter-notebooks/${env}/${user}/${file}`;
const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}/jupyter-token-AbCdEf`;
const service = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/data-science/${name}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ownedBy = (owner: string) => ({ "aws:ResourceTag/Owner": owner });

describeWithTerraform("access policies of an environment: rendered by terraform, evaluated offline", () => {
  const settings = settingsFor({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } });
  const backend = JSON.parse(Testing.synth(new StateBackendStack(Testing.app(), stateBackendStackSpecs(settings)[0])));
  const policyNamed = (suffix: string) => Object.values<any>(backend.resource.aws_iam_policy).find((p) => p.name === `jupyter-notebooks-dev-${suffix}`);
  /** Both parts of a policy: attached together, as the README says. */
  let user: any[];
  let admin: any[];
  let boundary: any;
  let parts: Record<string, any>;

  beforeAll(async () => {
    // The administrator lets users attach team-data; its statements join the boundary.
    const teamData = `jsonencode({Version = "2012-10-17", Statement = [{Sid = "ReadTeamData", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::team-data/*"}]})`;
    const rendered = await renderPolicies(
      {
        user: policyNamed("user").policy,
        user_resources: policyNamed("user-resources").policy,
        admin: policyNamed("administrator").policy,
        admin_resources: policyNamed("administrator-resources").policy,
        boundary: policyNamed("role-boundary").policy,
      },
      {
        replacements: [[/data\.aws_iam_policy\.access_dev_task_role_policy_[0-9A-F]{8}(?![.\w])/g, `{"${TEAM_DATA_POLICY}" = {policy = ${teamData}}}`]],
        variables: backend.variable,
        varsText: `task_role_policy_arns = ["${TEAM_DATA_POLICY}"]\n`,
      },
    );
    parts = concrete(rendered, {
      "<data.aws_partition.partition.partition>": "aws",
      "<data.aws_caller_identity.account.account_id>": ACCOUNT,
      "<aws_s3_bucket.state_bucket.arn>": BUCKET,
    });
    user = [parts.user, parts.user_resources];
    admin = [parts.admin, parts.admin_resources];
    boundary = parts.boundary;
  }, 60_000);

  test("the state-backend stack creates the user and administrator policies (two parts each) and the role boundary, under the project's path", () => {
    for (const suffix of ["user", "user-resources", "administrator", "administrator-resources", "role-boundary"])
      expect(policyNamed(suffix)).toMatchObject({ path: "/jupyter-notebooks/" });
  });

  test("alice gets and puts her state and its lock file, and lists her own prefix; not bob's, nor another environment's", async () => {
    for (const action of ["s3:GetObject", "s3:PutObject"]) {
      expect(await decide(byAlice(action, state("alice")), { identity: user })).toBe("Allowed");
      expect(await decide(byAlice(action, state("bob")), { identity: user })).toBe("ImplicitlyDenied");
      expect(await decide(byAlice(action, state("alice", "terraform.tfstate", "prod")), { identity: user })).toBe("ImplicitlyDenied");
    }
    expect(await decide(byAlice("s3:DeleteObject", state("alice", "terraform.tfstate.tflock")), { identity: user })).toBe("Allowed");
    expect(await decide(byAlice("s3:DeleteObject", state("bob", "terraform.tfstate.tflock")), { identity: user })).toBe("ImplicitlyDenied");
    const list = (prefix: string) => byAlice("s3:ListBucket", BUCKET, { "s3:prefix": prefix });
    expect(await decide(list("jupyter-notebooks/dev/alice/"), { identity: user })).toBe("Allowed");
    expect(await decide(list("jupyter-notebooks/dev/bob/"), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(list("jupyter-notebooks/dev/"), { identity: user })).toBe("ImplicitlyDenied");
  });

  test("alice reads the platform stack's state, never changes it, and counts the notebooks on its load balancers", async () => {
    const platformState = `${BUCKET}/jupyter-notebooks/_platform/dev/terraform.tfstate`;
    expect(await decide(byAlice("s3:GetObject", platformState), { identity: user })).toBe("Allowed");
    for (const action of ["s3:PutObject", "s3:DeleteObject"]) expect(await decide(byAlice(action, platformState), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(byAlice("s3:GetObject", `${BUCKET}/jupyter-notebooks/_platform/prod/terraform.tfstate`), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(byAlice("tag:GetResources", "*"), { identity: user })).toBe("Allowed");
  });

  test("alice lists exactly the platform's and the accelerators stack's state keys (S3 then says a missing one is missing), nothing around them", async () => {
    const list = (prefix: string, tag: string | null = "alice") => byAlice("s3:ListBucket", BUCKET, { "s3:prefix": prefix }, tag);
    for (const key of ADMINISTRATOR_STATE_KEYS) {
      expect(await decide(list(key), { identity: user })).toBe("Allowed");
      expect(await decide(list(key, null), { identity: admin })).toBe("Allowed");
    }
    for (const prefix of [
      "jupyter-notebooks/_accelerators/",
      "jupyter-notebooks/_accelerators/dev/",
      "jupyter-notebooks/_accelerators/prod/terraform.tfstate",
      "jupyter-notebooks/",
    ])
      expect(await decide(list(prefix), { identity: user })).toBe("ImplicitlyDenied");
  });

  test("before accelerators-dev is deployed, alice's Fargate notebook-dev plans without reading its state; an accelerated one gets terraform's 'no state', not S3's 403", async () => {
    // S3 answers a missing object with 404 only to a caller who may list its key (s3:ListBucket
    // with the key as s3:prefix), and with 403 to anyone else. Terraform refuses a missing
    // state either way, defaults or not: only an accelerated notebook reads it (count).
    const listable: string[] = [];
    for (const key of ADMINISTRATOR_STATE_KEYS)
      if ((await decide(byAlice("s3:ListBucket", BUCKET, { "s3:prefix": key }), { identity: user })) === "Allowed") listable.push(key);
    expect(listable).toEqual(ADMINISTRATOR_STATE_KEYS);
    const settings = settingsFor({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", accelerators: true } });
    const { json, text } = synthStack("notebook-dev", settings);
    const [name, block] = Object.entries<any>(json.data.terraform_remote_state).find(([, b]) => b.config.key === ADMINISTRATOR_STATE_KEYS[1])!;
    // What the notebook's compute reads from that state, as the stack writes it.
    const read = text.match(new RegExp(`try\\(data\\.terraform_remote_state\\.${name}\\[0\\]\\.outputs\\.accelerator_capacity_providers, \\{\\}\\)`))![0];
    const plan = async (accelerator: string, keys: string[]) => {
      const aws = await startFakeAws(`arn:aws:iam::${ACCOUNT}:user/alice`, "alice", keys);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-admin-state-"));
      try {
        // Path-style requests: the stand-in on 127.0.0.1 has no per-bucket hostnames.
        const reading = { ...block, config: { ...block.config, use_path_style: true } };
        const config = {
          variable: { accelerator: json.variable.accelerator },
          data: { terraform_remote_state: { [name]: reading } },
          output: { capacity: { value: `\${jsonencode(${read})}` } },
        };
        fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(config));
        const init = await runTerraform(dir, ["init", "-input=false", "-no-color"], aws.env);
        expect(init.code).toBe(0);
        return await runTerraform(dir, ["plan", "-input=false", "-no-color", `-var=accelerator=${accelerator}`], aws.env);
      } finally {
        aws.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const fargate = await plan("none", listable);
    expect(fargate.output).not.toContain("Error");
    expect(fargate.code).toBe(0);
    expect(oneLine(fargate.output)).toContain(`capacity = jsonencode({})`);
    const gpu = await plan("nvidia", listable);
    expect(gpu.code).not.toBe(0);
    expect(gpu.output).toContain("No stored state was found for the given workspace in the given backend");
    // Without the listing (the policy before), S3's 403 reads as a permissions problem.
    const gpuWithout = await plan("nvidia", []);
    expect(gpuWithout.code).not.toBe(0);
    expect(gpuWithout.output).toContain(`Unable to access object "${ADMINISTRATOR_STATE_KEYS[1]}"`);
  }, 120_000);

  test("alice reads the accelerators stack's state (its capacity providers), never changes it, and no other environment's", async () => {
    const acceleratorsState = `${BUCKET}/jupyter-notebooks/_accelerators/dev/terraform.tfstate`;
    expect(await decide(byAlice("s3:GetObject", acceleratorsState), { identity: user })).toBe("Allowed");
    for (const action of ["s3:PutObject", "s3:DeleteObject"])
      expect(await decide(byAlice(action, acceleratorsState), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(byAlice("s3:GetObject", `${BUCKET}/jupyter-notebooks/_accelerators/prod/terraform.tfstate`), { identity: user })).toBe(
      "ImplicitlyDenied",
    );
    expect(await decide(byAlice("s3:GetObject", `${BUCKET}/jupyter-notebooks/_accelerators/dev/other.tfstate`), { identity: user })).toBe("ImplicitlyDenied");
  });

  test("an identity without the NotebookUser tag reaches no state, or one with bob's tag reaches bob's only", async () => {
    expect(await decide(byAlice("s3:GetObject", state("alice"), {}, null), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(byAlice("s3:GetObject", state("bob"), {}, "bob"), { identity: user })).toBe("Allowed");
  });

  test("alice creates her secrets and reads her own; she may not read, change or claim bob's", async () => {
    expect(
      await decide(byAlice("secretsmanager:CreateSecret", secret("jupyter-ab12cd34"), { "aws:RequestTag/Owner": "alice", "aws:TagKeys": ["Owner"] }), {
        identity: user,
      }),
    ).toBe("Allowed");
    expect(
      await decide(byAlice("secretsmanager:CreateSecret", secret("jupyter-ab12cd34"), { "aws:RequestTag/Owner": "bob", "aws:TagKeys": ["Owner"] }), {
        identity: user,
      }),
    ).toBe("ImplicitlyDenied");
    expect(await decide(byAlice("secretsmanager:GetSecretValue", secret("jupyter-ab12cd34"), ownedBy("alice")), { identity: user })).toBe("Allowed");
    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"]) {
      expect(await decide(byAlice(action, secret("jupyter-zz99yy88"), ownedBy("bob")), { identity: user })).toBe("ImplicitlyDenied");
    }
    // Re-labelling bob's secret as hers is refused outright.
    const claim = byAlice("secretsmanager:TagResource", secret("jupyter-zz99yy88"), {
      ...ownedBy("bob"),
      "aws:RequestTag/Owner": "alice",
      "aws:TagKeys": ["Owner"],
    });
    expect(await decide(claim, { identity: user })).toBe("ExplicitlyDenied");
    // Nor may she give her own away, or remove its Owner.
    const giveAway = byAlice("secretsmanager:TagResource", secret("jupyter-ab12cd34"), {
      ...ownedBy("alice"),
      "aws:RequestTag/Owner": "bob",
      "aws:TagKeys": ["Owner"],
    });
    expect(await decide(giveAway, { identity: user })).toBe("ExplicitlyDenied");
    const unlabel = byAlice("secretsmanager:UntagResource", secret("jupyter-ab12cd34"), { ...ownedBy("alice"), "aws:TagKeys": ["Owner"] });
    expect(await decide(unlabel, { identity: user })).toBe("ExplicitlyDenied");
    // Other tags of her own secret are hers to change.
    const retag = byAlice("secretsmanager:TagResource", secret("jupyter-ab12cd34"), {
      ...ownedBy("alice"),
      "aws:RequestTag/CostCenter": "42",
      "aws:TagKeys": ["CostCenter"],
    });
    expect(await decide(retag, { identity: user })).toBe("Allowed");
  });

  test("alice updates and deletes her service; not bob's", async () => {
    for (const action of ["ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"]) {
      expect(await decide(byAlice(action, service("jupyter-ab12cd34"), ownedBy("alice")), { identity: user })).toBe("Allowed");
      expect(await decide(byAlice(action, service("jupyter-zz99yy88"), ownedBy("bob")), { identity: user })).toBe("ImplicitlyDenied");
    }
    const create = (owner: string) => byAlice("ecs:CreateService", service("jupyter-ab12cd34"), { "aws:RequestTag/Owner": owner, "aws:TagKeys": ["Owner"] });
    expect(await decide(create("alice"), { identity: user })).toBe("Allowed");
    expect(await decide(create("bob"), { identity: user })).toBe("ImplicitlyDenied");
  });

  test("alice's roles carry the boundary, get only the chosen managed policies, and go to ECS tasks only", async () => {
    const createRole = (boundaryArn: string | undefined, owner = "alice") =>
      byAlice("iam:CreateRole", role("jupyter-ab12cd34-task"), {
        "aws:RequestTag/Owner": owner,
        "aws:TagKeys": ["Owner"],
        ...(boundaryArn ? { "iam:PermissionsBoundary": boundaryArn } : {}),
      });
    expect(await decide(createRole(BOUNDARY), { identity: user })).toBe("Allowed");
    expect(await decide(createRole(undefined), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(createRole(`arn:aws:iam::${ACCOUNT}:policy/anything`), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(createRole(BOUNDARY, "bob"), { identity: user })).toBe("ImplicitlyDenied");

    const put = (name: string, owner: string) => byAlice("iam:PutRolePolicy", role(name), { ...ownedBy(owner), "iam:PermissionsBoundary": BOUNDARY });
    expect(await decide(put("jupyter-ab12cd34-task", "alice"), { identity: user })).toBe("Allowed");
    expect(await decide(put("jupyter-zz99yy88-task", "bob"), { identity: user })).toBe("ImplicitlyDenied");

    const attach = (policy: string) =>
      byAlice("iam:AttachRolePolicy", role("jupyter-ab12cd34-task"), { ...ownedBy("alice"), "iam:PermissionsBoundary": BOUNDARY, "iam:PolicyARN": policy });
    expect(await decide(attach(EXECUTION_POLICY), { identity: user })).toBe("Allowed");
    expect(await decide(attach(TEAM_DATA_POLICY), { identity: user })).toBe("Allowed");
    expect(await decide(attach("arn:aws:iam::aws:policy/AdministratorAccess"), { identity: user })).toBe("ImplicitlyDenied");

    const pass = (name: string, owner: string, to: string) => byAlice("iam:PassRole", role(name), { ...ownedBy(owner), "iam:PassedToService": to });
    expect(await decide(pass("jupyter-ab12cd34-task", "alice", "ecs-tasks.amazonaws.com"), { identity: user })).toBe("Allowed");
    expect(await decide(pass("jupyter-ab12cd34-task", "alice", "ec2.amazonaws.com"), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(pass("jupyter-zz99yy88-task", "bob", "ecs-tasks.amazonaws.com"), { identity: user })).toBe("ImplicitlyDenied");
    // Removing the boundary is not hers to do.
    expect(await decide(byAlice("iam:DeleteRolePermissionsBoundary", role("jupyter-ab12cd34-task"), ownedBy("alice")), { identity: user })).toBe(
      "ImplicitlyDenied",
    );
  });

  test("alice writes notebook-shaped CNAME records only", async () => {
    const change = (name: string, type = "CNAME") =>
      byAlice("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ", {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [name],
        "route53:ChangeResourceRecordSetsRecordTypes": [type],
        "route53:ChangeResourceRecordSetsActions": ["CREATE"],
      });
    expect(await decide(change("jupyter-ab12cd34.nb.example.com"), { identity: user })).toBe("Allowed");
    expect(await decide(change("www.example.com"), { identity: user })).toBe("ImplicitlyDenied");
    expect(await decide(change("jupyter-ab12cd34.nb.example.com", "A"), { identity: user })).toBe("ImplicitlyDenied");
  });

  test("the administrator may do all of it, to everyone's notebooks", async () => {
    const asAdmin = (action: string, resource: string, context: Record<string, string | string[]> = {}) => ({
      principal: `arn:aws:iam::${ACCOUNT}:user/admin`,
      action,
      resource,
      context,
    });
    expect(await decide(asAdmin("s3:GetObject", state("bob")), { identity: admin })).toBe("Allowed");
    expect(await decide(asAdmin("s3:PutObject", state("alice")), { identity: admin })).toBe("Allowed");
    expect(await decide(asAdmin("s3:ListBucket", BUCKET, { "s3:prefix": "jupyter-notebooks/dev/" }), { identity: admin })).toBe("Allowed");
    expect(await decide(asAdmin("secretsmanager:GetSecretValue", secret("jupyter-zz99yy88"), ownedBy("bob")), { identity: admin })).toBe("Allowed");
    expect(await decide(asAdmin("ecs:UpdateService", service("jupyter-zz99yy88"), ownedBy("bob")), { identity: admin })).toBe("Allowed");
    expect(await decide(asAdmin("ecs:DeleteService", service("jupyter-ab12cd34"), ownedBy("alice")), { identity: admin })).toBe("Allowed");
    expect(
      await decide(asAdmin("ecs:CreateService", service("jupyter-zz99yy88"), { "aws:RequestTag/Owner": "bob", "aws:TagKeys": ["Owner"] }), { identity: admin }),
    ).toBe("Allowed");
    // Also bound: notebook roles get the boundary whoever deploys them.
    const createRole = (boundaryArn?: string) =>
      asAdmin("iam:CreateRole", role("jupyter-zz99yy88-task"), {
        "aws:RequestTag/Owner": "bob",
        ...(boundaryArn ? { "iam:PermissionsBoundary": boundaryArn } : {}),
      });
    expect(await decide(createRole(BOUNDARY), { identity: admin })).toBe("Allowed");
    expect(await decide(createRole(), { identity: admin })).toBe("ImplicitlyDenied");
    // Another environment's states are not in this one's policy.
    expect(await decide(asAdmin("s3:GetObject", state("bob", "terraform.tfstate", "prod")), { identity: admin })).toBe("ImplicitlyDenied");
  });

  test("the boundary caps a notebook role whatever policy alice gives it: its owner's secrets and service, the chosen team data, nothing else", async () => {
    // Alice's task role (tagged Owner=alice) with an inline policy that allows everything.
    const everything = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
    const asRole = (action: string, resource: string, context: Record<string, string> = {}) => ({
      principal: role("jupyter-ab12cd34-task"),
      action,
      resource,
      context: { "aws:PrincipalTag/Owner": "alice", ...context },
    });
    const policies = { identity: everything, boundary };
    expect(await decide(asRole("secretsmanager:GetSecretValue", secret("jupyter-ab12cd34"), ownedBy("alice")), policies)).toBe("Allowed");
    expect(await decide(asRole("secretsmanager:GetSecretValue", secret("jupyter-zz99yy88"), ownedBy("bob")), policies)).toBe("ImplicitlyDenied");
    // A notebook's task role updates its own service only.
    expect(await decide(asRole("ecs:UpdateService", service("jupyter-ab12cd34"), ownedBy("alice")), policies)).toBe("Allowed");
    expect(await decide(asRole("ecs:UpdateService", service("jupyter-zz99yy88"), ownedBy("bob")), policies)).toBe("ImplicitlyDenied");
    expect(await decide(asRole("s3:GetObject", "arn:aws:s3:::team-data/survey.csv"), policies)).toBe("Allowed");
    expect(await decide(asRole("s3:GetObject", state("bob")), policies)).toBe("ImplicitlyDenied");
    expect(await decide(asRole("iam:CreateUser", `arn:aws:iam::${ACCOUNT}:user/backdoor`), policies)).toBe("ImplicitlyDenied");
    expect(await decide(asRole("elasticfilesystem:ClientMount", `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/fs-0123`), policies)).toBe(
      "ImplicitlyDenied",
    );
  });

  test("every action of every access policy is one AWS publishes", async () => {
    const actions = [...new Set(Object.values(parts).flatMap(actionsOf))];
    expect(actions.length).toBeGreaterThan(60);
    const unknown: string[] = [];
    for (const action of actions) if (!(await actionExists(action))) unknown.push(action);
    expect(unknown).toEqual([]);
  });

  test("every condition key is one its actions carry, and actions AWS authorizes on '*' only are given '*'", async () => {
    // The check itself catches both mistakes.
    expect(await statementProblems({ Sid: "X", Action: "ecs:DeregisterTaskDefinition", Resource: "arn:aws:ecs:*:1:task-definition/*" })).toHaveLength(1);
    expect(
      await statementProblems({ Sid: "X", Action: "iam:TagRole", Resource: "*", Condition: { StringEquals: { "iam:PermissionsBoundary": "x" } } }),
    ).toHaveLength(1);
    expect(
      await statementProblems({ Sid: "X", Action: "ecs:CreateService", Resource: "*", Condition: { StringEquals: { "aws:RequestTag/Owner": "x" } } }),
    ).toEqual([]);
    const problems: string[] = [];
    for (const policy of Object.values(parts)) for (const s of statementsOf(policy)) if (s.Sid) problems.push(...(await statementProblems(s)));
    expect(problems).toEqual([]);
  });

  test("each policy fits IAM's 6,144 characters for a managed policy (whitespace not counted), in the longest partition too", () => {
    const inGovCloud: Record<string, unknown> = JSON.parse(JSON.stringify(parts).split(":aws:").join(":aws-us-gov:"));
    const sizes = Object.fromEntries(Object.entries(inGovCloud).map(([name, policy]) => [name, JSON.stringify(policy).length]));
    process.stdout.write(`managed policy sizes (aws-us-gov): ${JSON.stringify(sizes)}\n`);
    for (const size of Object.values(sizes)) expect(size).toBeLessThanOrEqual(6144);
  });
});
