import { ForeignStateError, readOldState, tokenProblems } from "../scripts/migrate/old-state";
import { LB, managed, oldState } from "./helpers/old-state";

// The old configuration's states as helpers/old-state.ts makes them: what migrate reads, and what it refuses.

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

  test("finds the load balancer from the listener when the state has no aws_lb data source, and a cluster given by name", () => {
    expect(readOldState(oldState("ab12cd34", "a-long-enough-token-1234", { without: ["aws_lb"] }), "f").loadBalancerArn).toBe(LB);
    const byName = readOldState(oldState("ab12cd34", "a-long-enough-token-1234", { clusterByName: true }), "f");
    expect([byName.clusterName, byName.region]).toEqual(["data-science", "eu-west-1"]);
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
    const otherRecord = oldState("ab12cd34", "a-long-enough-token-1234").replace(/jupyter-ab12cd34\.notebooks/, "www.notebooks");
    expect(refusal(otherRecord)).toMatch(/its DNS record "www\.notebooks\.example\.com" is not <prefix>-ab12cd34\.<domain>/);
  });
});
