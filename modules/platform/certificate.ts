import { Construct } from "constructs";
import { Fn, Op, ref, TerraformStack, Token } from "cdktf";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { address } from "../expressions";

/** TTL of the certificate's validation record: ACM looks it up again at every renewal. */
export const VALIDATION_RECORD_TTL = 300;

export interface WildcardCertificateProps {
  /** The team's public Route 53 hosted zone: looked up, never changed; only the validation record is added. */
  readonly hostedZoneId: string;
  /**
   * Domain of the notebook hostnames (`<prefix>-<suffix>.<domain>`): the zone's name or a
   * name under it. Empty (or an expression that evaluates to "") means the zone's name.
   * @default the zone's name
   */
  readonly domain?: string;
}

/**
 * The certificate every notebook hostname is served with: one ACM certificate for
 * `*.<domain>`, validated through a DNS record in the team's zone. `certificateArn` is taken
 * from the validation, so a listener that uses it waits until the certificate is issued.
 */
export class WildcardCertificate extends Construct {
  public readonly zone: DataAwsRoute53Zone;
  public readonly certificate: AcmCertificate;
  public readonly validationRecord: Route53Record;
  public readonly validation: AcmCertificateValidation;
  /** The zone's name, without the trailing dot. */
  public readonly zoneName: string;
  /** The domain the certificate covers the names under: the given one, or the zone's name. */
  public readonly domain: string;
  /** ARN of the issued certificate (known once validated). */
  public readonly certificateArn: string;

  constructor(scope: Construct, id: string, props: WildcardCertificateProps) {
    super(scope, id);
    const stack = TerraformStack.of(this);

    this.zone = new DataAwsRoute53Zone(this, "zone", {
      zoneId: props.hostedZoneId,
      lifecycle: {
        postcondition: [
          {
            condition: "${!self.private_zone}",
            errorMessage: `hosted_zone_id ${props.hostedZoneId} is a private hosted zone: ACM validates the certificate, and browsers find the notebooks, through a public one.`,
          },
        ],
      },
    });
    this.zoneName = Fn.trimsuffix(this.zone.name, ".");
    // coalesce() skips empty strings: no domain means the zone's name.
    this.domain = Fn.coalesce([props.domain ?? "", this.zoneName]);

    this.certificate = new AcmCertificate(this, "certificate", {
      domainName: Fn.format("*.%s", [this.domain]),
      validationMethod: "DNS",
      tags: { Name: Fn.format("*.%s", [this.domain]) },
      // A new domain gets its certificate before the listeners let go of the old one.
      lifecycle: {
        createBeforeDestroy: true,
        precondition: [
          {
            condition: Op.or(Op.eq(this.domain, this.zoneName), Fn.endswith(this.domain, Fn.format(".%s", [this.zoneName]))),
            errorMessage: `domain ${this.domain} is neither the hosted zone's name ${this.zoneName} nor a name under it: notebook hostnames are records in that zone. Set domain to a name ending in .${this.zoneName}, or leave it empty.`,
          },
        ],
      },
    });

    // A wildcard name has exactly one validation option. domain_validation_options is a set:
    // tolist() before indexing (for_each over it would need values unknown until apply).
    const option = (attribute: string) => Token.asString(ref(`tolist(${address(this.certificate)}.domain_validation_options)[0].${attribute}`, stack));
    this.validationRecord = new Route53Record(this, "validation_record", {
      zoneId: this.zone.zoneId,
      name: option("resource_record_name"),
      type: option("resource_record_type"),
      records: [option("resource_record_value")],
      ttl: VALIDATION_RECORD_TTL,
      // Never take over a record someone else made.
      allowOverwrite: false,
    });
    this.validation = new AcmCertificateValidation(this, "validation", {
      certificateArn: this.certificate.arn,
      validationRecordFqdns: [this.validationRecord.fqdn],
    });
    this.certificateArn = this.validation.certificateArn;
  }
}
