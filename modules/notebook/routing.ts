import { Construct } from "constructs";
import { conditional, Fn, Op, TerraformIterator, Token } from "cdktf";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { NotebookPlatform } from "./platform";
import { MAX_HOSTNAME_LENGTH, NOTEBOOK_PORT, SUFFIX_LENGTH } from "./constants";
import { keepLogicalId } from "./logical-ids";
import { signInActions, SignInProps } from "./sign-in";
import { WAKER_TAGS } from "../waker/tags";

export interface NotebookRoutingProps {
  /** The construct these resources belonged to before they moved here: their addresses stay its children's. */
  readonly owner: Construct;
  readonly platform: NotebookPlatform;
  /** `<prefix>-<suffix>`: the target group's name. */
  readonly name: string;
  /** `<prefix>-<suffix>.<domain>`. */
  readonly hostname: string;
  readonly hostnamePrefix: string;
  /** The hostname's domain (the zone's name when the vars file gives none). */
  readonly domain: string;
  /** Source CIDRs the listener rule forwards. */
  readonly allowedCidrs: string[];
  /**
   * Sign-in at the load balancer before Jupyter's token.
   * @default no sign-in
   */
  readonly signIn?: SignInProps;
  /** What the waker needs to start this notebook from its URL, as the rule's tags (WAKER_TAGS). */
  readonly waker: { readonly clusterArn: string; readonly serviceName: string; readonly tokenSecretArn: string };
}

/**
 * How requests reach one notebook: its target group (health check on /api), the listener
 * rule for its hostname and the allowed CIDRs (sign-in first when configured), and the
 * DNS record. The resources keep the Terraform addresses they had as direct children of
 * the notebook (keepLogicalId), so deployed notebooks are not replaced.
 */
export class NotebookRouting extends Construct {
  public readonly targetGroup: LbTargetGroup;
  public readonly listenerRule: LbListenerRule;
  public readonly dnsRecord: Route53Record;

  constructor(scope: Construct, id: string, props: NotebookRoutingProps) {
    super(scope, id);
    const { platform, hostnamePrefix, domain, allowedCidrs } = props;
    const signIn = signInActions(props.signIn);

    this.targetGroup = new LbTargetGroup(this, "target_group", {
      name: props.name,
      targetType: "ip",
      protocol: "HTTP",
      port: NOTEBOOK_PORT,
      vpcId: platform.vpcId,
      ...(platform.targetGroupTags && Object.keys(platform.targetGroupTags).length > 0 ? { tags: platform.targetGroupTags } : {}),
      // A stopping notebook has nobody to drain for: destroy and replacement stay fast.
      deregistrationDelay: "5",
      // A renamed target group (new hostname_prefix) is created and the rule moved to it
      // before the old one goes: a target group in use by a rule cannot be deleted.
      lifecycle: { createBeforeDestroy: true },
      healthCheck: {
        enabled: true,
        path: "/api",
        matcher: "200",
        protocol: "HTTP",
        port: "traffic-port",
        // Healthy after 2 checks 5 s apart (about 20 s after the server starts); unhealthy
        // only after 10 failed checks (50 s): a notebook busy for a few seconds is not killed.
        interval: 5,
        timeout: 4,
        healthyThreshold: 2,
        unhealthyThreshold: 10,
      },
    });
    keepLogicalId(this.targetGroup, props.owner, "target_group");

    this.listenerRule = new LbListenerRule(this, "listener_rule", {
      listenerArn: platform.listenerArn,
      // No priority: the provider picks a free one and retries on PriorityInUse.
      // All actions are dynamic blocks (below), in order: sign-in first when configured,
      // then forward. Terraform puts plain blocks before dynamic ones, and the provider
      // matches the actions it reads back to the configured ones by position.
      action: [],
      tags: {
        [WAKER_TAGS.cluster]: props.waker.clusterArn,
        [WAKER_TAGS.service]: props.waker.serviceName,
        [WAKER_TAGS.targetGroup]: this.targetGroup.arn,
        [WAKER_TAGS.tokenSecret]: props.waker.tokenSecretArn,
      },
      condition: [
        { hostHeader: { values: [props.hostname] } },
        // Written the canonical way (2001:DB8::/32 as 2001:db8::/32), as AWS stores it.
        { sourceIp: { values: Token.asList(TerraformIterator.fromList(allowedCidrs).forExpressionForList("cidrsubnet(val, 0, 0)")) } },
      ],
      lifecycle: {
        // Checked when planning, with the domain the zone gives when the vars file has none:
        // the load balancer refuses the rule only after much else was created.
        precondition: [
          {
            condition: Op.lte(Op.add(Fn.lengthOf(hostnamePrefix), Op.add(1 + SUFFIX_LENGTH + 1, Fn.lengthOf(domain))), MAX_HOSTNAME_LENGTH),
            errorMessage: `the notebook's hostname <prefix>-<${SUFFIX_LENGTH} characters>.${domain} is longer than the ${MAX_HOSTNAME_LENGTH} characters a load balancer's host condition takes: shorten hostname_prefix, or set a shorter domain under the hosted zone.`,
          },
          {
            condition: Fn.can(Fn.regex("(^|[.])[a-z]+$", domain)),
            errorMessage: `the domain ${domain} must end in a label of letters only (the load balancer's host condition allows nothing else after the last dot): set domain to such a name under the hosted zone.`,
          },
        ],
      },
    });
    keepLogicalId(this.listenerRule, props.owner, "listener_rule");
    this.listenerRule.addOverride("action", undefined);
    this.listenerRule.addOverride("dynamic.action", [
      ...signIn.dynamicActions,
      {
        for_each: ["forward"],
        content: { type: "forward", order: conditional(signIn.enabled, 2, 1), target_group_arn: this.targetGroup.arn },
      },
    ]);

    this.dnsRecord = new Route53Record(this, "dns_record", {
      zoneId: platform.zoneId,
      name: props.hostname,
      type: "CNAME",
      ttl: 60,
      records: [platform.loadBalancerDnsName],
      lifecycle: {
        // Checked when planning, before anything is created: Route 53 would refuse the record last.
        precondition: [
          {
            condition: Op.or(Op.eq(domain, platform.zoneName), Fn.endswith(domain, `.${platform.zoneName}`)),
            errorMessage: "domain must be the hosted zone's name or a name under it: the zone named by hosted_zone_id holds the notebook's record.",
          },
        ],
      },
    });
    keepLogicalId(this.dnsRecord, props.owner, "dns_record");
  }
}
