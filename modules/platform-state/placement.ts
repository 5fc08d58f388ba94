import { createHash } from "crypto";
import { Construct } from "constructs";
import { TerraformResource, Token } from "cdktf";

/**
 * Which of an environment's load balancers a notebook goes on.
 *
 * Each user has an order of preference over the load balancers, their own (rendezvous
 * hashing of the user name): users spread evenly, and nobody's order depends on who else
 * exists. At the notebook's first deploy the first one in that order with room (fewer than
 * `capacity` other notebooks' target groups) is chosen and written to the notebook's own
 * state (`terraform_data` with `ignore_changes`), where it stays: adding or removing other
 * users never moves a notebook. When every load balancer is full, planning stops with a
 * message that says so. A notebook's own target group is never counted against it, so a
 * later deploy of a notebook on a full load balancer goes through.
 */

/**
 * Most load balancers a platform has. Every user's order covers this many, so that a notebook
 * stack synthesized with an older count still sees the platform's newer load balancers.
 */
export const MAX_LOAD_BALANCERS = 20;

/** Tag on a notebook's target group naming the load balancer it is placed on. */
export const LOAD_BALANCER_TAG = "NotebookLoadBalancer";

/** The user's order of preference over `count` load balancers (indexes 0..count-1). */
export function preferenceOrder(owner: string, count: number): number[] {
  const score = (i: number) => createHash("sha256").update(`${owner}\n${i}`).digest().readBigUInt64BE(0);
  return Array.from({ length: count }, (_, i) => i).sort((a, b) => {
    const d = score(b) - score(a);
    return d > 0n ? 1 : d < 0n ? -1 : a - b;
  });
}

export interface LoadBalancerPlacementProps {
  /** The notebook's owner: their order of preference, and their own target group not counted. */
  readonly owner: string;
  /** HCL (without `${}`): the names of the platform's load balancers, in index order. */
  readonly loadBalancerNamesHcl: string;
  /**
   * HCL (without `${}`): every notebook target group of the environment with its tags, as
   * the Resource Groups Tagging API lists them: a list of objects with a `tags` map.
   */
  readonly targetGroupsHcl: string;
  /** HCL (without `${}`): how many notebooks one load balancer holds (the platform's own figure). */
  readonly capacityHcl: string;
  /** The platform stack's id, for messages. */
  readonly platformStackId: string;
  /** Further plan-time checks, with their messages, that stop the deploy before anything is created. */
  readonly preconditions?: { condition: unknown; errorMessage: string }[];
}

export class LoadBalancerPlacement extends Construct {
  /** Index of the chosen load balancer in the platform's list (kept in state). */
  public readonly index: number;
  /** The resource that keeps the choice. */
  public readonly choice: TerraformResource;

  constructor(scope: Construct, id: string, props: LoadBalancerPlacementProps) {
    super(scope, id);
    const names = props.loadBalancerNamesHcl;
    const groups = props.targetGroupsHcl;
    const capacity = props.capacityHcl;
    const owner = JSON.stringify(props.owner);
    // Notebooks of other users on load balancer i; one the platform does not have (yet)
    // counts as full.
    const others = (i: string) =>
      `try(length([for g in ${groups} : g if lookup(g.tags, "${LOAD_BALANCER_TAG}", "") == (${names})[${i}] && lookup(g.tags, "Owner", "") != ${owner}]), ${capacity})`;
    const order = `[${preferenceOrder(props.owner, MAX_LOAD_BALANCERS).join(", ")}]`;
    const firstWithRoom = `try([for i in ${order} : i if ${others("i")} < ${capacity}][0], -1)`;
    // Already placed (a target group of the owner's carries the tag): a later deploy never
    // needs room, even when a race or a lowered capacity left its load balancer over full.
    const placed = `length([for g in ${groups} : g if lookup(g.tags, "Owner", "") == ${owner} && lookup(g.tags, "${LOAD_BALANCER_TAG}", "") != ""]) > 0`;

    // A plain terraform_data: cdktf's DataResource class runs `terraform version` at every synth.
    this.choice = new TerraformResource(this, "load_balancer", {
      terraformResourceType: "terraform_data",
      lifecycle: {
        // The first choice stays: later counts never move the notebook.
        ignoreChanges: ["input"],
        precondition: [
          ...(props.preconditions ?? []).map((p) => ({ condition: p.condition, errorMessage: p.errorMessage })),
          {
            condition: `\${${placed} || ${firstWithRoom} >= 0}`,
            errorMessage:
              `every load balancer of ${props.platformStackId} is full: \${length(${names})} × \${${capacity}} notebooks. ` +
              `Ask the administrator to raise loadBalancers for this environment in cdktf.json and deploy ${props.platformStackId}, or remove a notebook nobody uses.`,
          },
        ],
        postcondition: [
          {
            condition: `\${self.output < length(${names})}`,
            errorMessage:
              `this notebook is on load balancer \${self.output} of ${props.platformStackId}, which has only \${length(${names})} now: ` +
              `give the platform back its load balancers (loadBalancers in cdktf.json), or destroy this notebook and deploy it again.`,
          },
        ],
      },
    });
    this.choice.addOverride("input", `\${${firstWithRoom}}`);
    this.index = Token.asNumber(this.choice.getNumberAttribute("output"));
  }
}
