import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { LOAD_BALANCER_TAG, LoadBalancerPlacement, preferenceOrder } from "../modules/platform-state/placement";
import { describeWithTerraform, oneLine, removeDir, runTerraform, tfvars } from "./helpers/terraform";

/**
 * Placement of notebooks on a platform's load balancers, run for real: each user's notebook
 * is the placement construct in a configuration of its own with its own local state, and
 * `terraform apply` / `destroy` deploy and remove it. What the Resource Groups Tagging API
 * would list (every notebook's target group with its tags) is kept by the test as users
 * come and go, and given to each apply as a variable in the data source's shape.
 */

const NAMES = ["nb-dev-0", "nb-dev-1", "nb-dev-2"];
/** Small, so that the load balancers fill up with a handful of users. */
const CAPACITY = 2;

interface TargetGroup {
  tags: Record<string, string>;
}

/** One user's notebook: a directory with the placement and its own state. */
class UserNotebook {
  readonly dir: string;
  constructor(readonly user: string, root: string) {
    this.dir = path.join(root, user);
    fs.mkdirSync(this.dir);
    const stack = new TerraformStack(Testing.app(), "notebook");
    const names = new TerraformVariable(stack, "load_balancer_names", { type: "list(string)" });
    const groups = new TerraformVariable(stack, "target_groups", { type: "list(object({ tags = map(string) }))" });
    const placement = new LoadBalancerPlacement(stack, "placement", {
      owner: user,
      capacityHcl: String(CAPACITY),
      platformStackId: "platform-dev",
      loadBalancerNamesHcl: `var.${names.node.id}`,
      targetGroupsHcl: `var.${groups.node.id}`,
    });
    new TerraformOutput(stack, "index", { value: placement.index });
    fs.writeFileSync(path.join(this.dir, "main.tf.json"), Testing.synth(stack));
  }
}

/** The account as the tagging API sees it, and the users' notebooks. */
class World {
  targetGroups: TargetGroup[] = [];
  readonly placed = new Map<string, number>();
  constructor(readonly root: string) {}

  private vars(dir: string): string {
    const file = path.join(dir, "world.tfvars");
    fs.writeFileSync(file, tfvars({ load_balancer_names: NAMES, target_groups: this.targetGroups }));
    return file;
  }

  /** `deploy`: apply; on success the user's target group is on the chosen load balancer. */
  async deploy(notebook: UserNotebook): Promise<{ ok: boolean; output: string; index?: number }> {
    if (!fs.existsSync(path.join(notebook.dir, ".terraform.lock.hcl"))) {
      const init = await runTerraform(notebook.dir, ["init", "-input=false", "-no-color"]);
      if (init.code !== 0) throw new Error(`init failed:\n${init.output}`);
    }
    const apply = await runTerraform(notebook.dir, ["apply", "-auto-approve", "-input=false", "-no-color", `-var-file=${this.vars(notebook.dir)}`]);
    if (apply.code !== 0) return { ok: false, output: oneLine(apply.output) };
    const out = await runTerraform(notebook.dir, ["output", "-json", "index"]);
    // stdout (the number) comes first; terraform may add a warning on stderr.
    const index = Number(/^\s*(-?\d+)/.exec(out.output)?.[1]);
    if (Number.isNaN(index)) throw new Error(`no index in:\n${out.output}`);
    this.targetGroups = this.targetGroups.filter((g) => g.tags.Owner !== notebook.user);
    this.targetGroups.push({ tags: { [LOAD_BALANCER_TAG]: NAMES[index], Owner: notebook.user, Project: "jupyter-notebooks" } });
    this.placed.set(notebook.user, index);
    return { ok: true, output: apply.output, index };
  }

  async destroy(notebook: UserNotebook): Promise<void> {
    const run = await runTerraform(notebook.dir, ["destroy", "-auto-approve", "-input=false", "-no-color", `-var-file=${this.vars(notebook.dir)}`]);
    if (run.code !== 0) throw new Error(`destroy failed:\n${run.output}`);
    this.targetGroups = this.targetGroups.filter((g) => g.tags.Owner !== notebook.user);
    this.placed.delete(notebook.user);
  }

  perLoadBalancer(): number[] {
    return NAMES.map((name) => this.targetGroups.filter((g) => g.tags[LOAD_BALANCER_TAG] === name).length);
  }
}

describe("each user's order of preference over the load balancers", () => {
  test("is a permutation that depends on the user and the count only", () => {
    // GIVEN / WHEN the order of one user, twice, and of another
    const a = preferenceOrder("alice", 6);
    // THEN it holds every index once, is the same every time, and differs between users
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(preferenceOrder("alice", 6)).toEqual(a);
    const firsts = new Set(["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"].map((u) => preferenceOrder(u, 6)[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  test("spreads 600 users about evenly over 6 load balancers by first choice", () => {
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 600; i++) counts[preferenceOrder(`user-${i}`, 6)[0]]++;
    // 100 each on average; sha256 keeps every one well within 100 ± 35
    for (const c of counts) expect(Math.abs(c - 100)).toBeLessThan(35);
  });

  test("of one load balancer is that one", () => {
    expect(preferenceOrder("alice", 1)).toEqual([0]);
  });
});

describeWithTerraform("placement on load balancers, deployed and destroyed with terraform", () => {
  let root: string;
  const notebooks = new Map<string, UserNotebook>();
  const users = ["u1", "u2", "u3", "u4", "u5", "u6", "u7"];
  let world: World;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-placement-"));
    for (const user of users) notebooks.set(user, new UserNotebook(user, root));
    world = new World(root);
  });
  afterAll(() => removeDir(root));

  test("the first notebook goes on its owner's first choice, and a target group without the tag counts for nothing", async () => {
    // GIVEN an account with a notebook of a team's own platform (no load balancer tag)
    world.targetGroups.push({ tags: { Owner: "someone", Project: "jupyter-notebooks" } });
    // WHEN u1 deploys
    const result = await world.deploy(notebooks.get("u1")!);
    // THEN u1 is on their first choice
    expect(result.ok).toBe(true);
    expect(result.index).toBe(preferenceOrder("u1", NAMES.length)[0]);
  }, 60_000);

  test("notebooks fill every load balancer up to its capacity, each on the first of its choices with room", async () => {
    for (const user of ["u2", "u3", "u4", "u5", "u6"]) {
      // WHEN the next user deploys
      const before = world.perLoadBalancer();
      const result = await world.deploy(notebooks.get(user)!);
      // THEN it is on the first load balancer in its order that had room
      expect(result.ok).toBe(true);
      const expected = preferenceOrder(user, NAMES.length).find((i) => before[i] < CAPACITY);
      expect({ user, index: result.index }).toEqual({ user, index: expected });
    }
    // THEN every load balancer holds exactly its capacity
    expect(world.perLoadBalancer()).toEqual([CAPACITY, CAPACITY, CAPACITY]);
  }, 120_000);

  test("fails when every load balancer is full, saying so, and creates nothing", async () => {
    const result = await world.deploy(notebooks.get("u7")!);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("every load balancer of platform-dev is full: 3 × 2 notebooks");
    expect(fs.existsSync(path.join(notebooks.get("u7")!.dir, "terraform.tfstate")) && JSON.parse(fs.readFileSync(path.join(notebooks.get("u7")!.dir, "terraform.tfstate"), "utf8")).resources.length).toBeFalsy();
  }, 60_000);

  test("a deploy of a notebook already on a full load balancer goes through and keeps its place", async () => {
    const before = world.placed.get("u2");
    const result = await world.deploy(notebooks.get("u2")!);
    expect(result.ok).toBe(true);
    expect(result.index).toBe(before);
  }, 60_000);

  test("a notebook whose load balancer a race left over full, all others full too, still deploys and stays", async () => {
    // GIVEN a racer's target group on u2's load balancer, one more than it holds
    const before = world.placed.get("u2")!;
    const racer = { tags: { [LOAD_BALANCER_TAG]: NAMES[before], Owner: "racer", Project: "jupyter-notebooks" } };
    world.targetGroups.push(racer);
    // WHEN u2 deploys again THEN it goes through, on the same load balancer
    const result = await world.deploy(notebooks.get("u2")!);
    expect(result.output).not.toContain("Error");
    expect(result.index).toBe(before);
    world.targetGroups = world.targetGroups.filter((g) => g !== racer);
  }, 60_000);

  test("removing users moves nobody else, and the freed place goes to the next new user", async () => {
    // GIVEN where everyone is
    const placed = new Map(world.placed);
    // WHEN two users destroy their notebooks, and the others deploy again
    await world.destroy(notebooks.get("u1")!);
    await world.destroy(notebooks.get("u3")!);
    for (const user of ["u2", "u4", "u5", "u6"]) {
      const result = await world.deploy(notebooks.get(user)!);
      // THEN each stays where it was
      expect({ user, index: result.index }).toEqual({ user, index: placed.get(user) });
    }
    // WHEN a new user deploys THEN they get one of the freed places
    const result = await world.deploy(notebooks.get("u7")!);
    expect(result.ok).toBe(true);
    expect([placed.get("u1"), placed.get("u3")]).toContain(result.index);
  }, 180_000);

  test("adding a user moves nobody: a later deploy keeps the first choice even when counts change", async () => {
    // GIVEN u1 comes back when their first choice may be full
    const placed = new Map(world.placed);
    const result = await world.deploy(notebooks.get("u1")!);
    expect(result.ok).toBe(true);
    // WHEN everyone deploys again THEN nobody moved
    for (const [user, index] of placed) {
      const again = await world.deploy(notebooks.get(user)!);
      expect({ user, index: again.index }).toEqual({ user, index });
    }
  }, 180_000);
});
