import { Construct } from "constructs";
import { Fn, Op, ref, TerraformCount, TerraformStack, Token } from "cdktf";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { address, splat } from "../expressions";
import { and, Condition, countWhen, equals, isEmpty, lengthOf, listWhen, not, when } from "./conditions";

/** Where notebook tasks run: public subnets with a public IP each, or private ones behind NAT. */
export type TaskNetwork = "public" | "private";

export const DEFAULT_VPC_CIDR = "10.42.0.0/16";
export const DEFAULT_AVAILABILITY_ZONES = 2;
export const DEFAULT_TASK_NETWORK: TaskNetwork = "public";
/** Subnets of a new VPC: vpc_cidr split in 16 (newbits 4); public i is block i, private i block 8 + i. */
export const SUBNET_NEWBITS = 4;
export const PRIVATE_SUBNET_OFFSET = 8;

export interface PlatformNetworkProps {
  /** Name (tag) of what the network creates, e.g. `jupyter-notebooks-dev`. */
  readonly name: string;
  /**
   * An existing VPC to use; empty (or an expression that evaluates to "") creates a new one.
   * @default a new VPC
   */
  readonly vpcId?: string;
  /**
   * IPv4 range of a new VPC, split in sixteenths for its subnets (ignored with vpcId).
   * @default 10.42.0.0/16: subnets of 4,096 addresses
   */
  readonly vpcCidr?: string;
  /**
   * Availability Zones a new VPC spans, one public (and private) subnet in each; the first
   * ones of the region (ignored with vpcId).
   * @default 2 zones
   */
  readonly availabilityZones?: number;
  /**
   * `public`: notebook tasks run in public subnets with a public IP each (no NAT gateway);
   * `private`: in private subnets without one (a new VPC gets one NAT gateway for them).
   * With vpcId, only whether tasks get a public IP. May be an expression.
   * @default "public": a public IP per task, no NAT gateway
   */
  readonly taskNetwork?: string;
  /**
   * Public subnets of vpcId for the load balancers, at least 2 in different zones.
   * @default none: required with vpcId
   */
  readonly loadBalancerSubnetIds?: string[];
  /**
   * Subnets of vpcId that notebook tasks run in.
   * @default none: required with vpcId
   */
  readonly notebookSubnetIds?: string[];
}

/**
 * The platform's network: a new VPC (public subnets with an internet gateway; with private
 * tasks also private subnets and one NAT gateway), or an existing VPC and its subnets,
 * looked up (never changed) and checked to belong together. Everything is created or
 * looked up with `count`, so vpcId and taskNetwork may be Terraform variables.
 */
export class PlatformNetwork extends Construct {
  /** Whether a new VPC is created (a literal or a Terraform expression). */
  public readonly createsVpc: Condition;
  /** Whether notebook tasks get a public IP. */
  public readonly assignPublicIp: Condition;

  public readonly availabilityZoneNames: DataAwsAvailabilityZones;
  public readonly vpc: Vpc;
  public readonly internetGateway: InternetGateway;
  public readonly publicSubnets: Subnet;
  public readonly publicRouteTable: RouteTable;
  public readonly publicDefaultRoute: Route;
  public readonly publicSubnetRoutes: RouteTableAssociation;
  public readonly privateSubnets: Subnet;
  public readonly natAddress: Eip;
  public readonly natGateway: NatGateway;
  public readonly privateRouteTable: RouteTable;
  public readonly privateDefaultRoute: Route;
  public readonly privateSubnetRoutes: RouteTableAssociation;
  public readonly existingVpc: DataAwsVpc;
  public readonly existingLoadBalancerSubnets: DataAwsSubnet;
  public readonly existingNotebookSubnets: DataAwsSubnet;

  /** The VPC's ID, created or given. */
  public readonly vpcId: string;
  /** The VPC's IPv4 ranges (an existing VPC's secondary ones too). */
  public readonly vpcCidrBlocks: string[];
  public readonly loadBalancerSubnetIds: string[];
  public readonly notebookSubnetIds: string[];
  /** How many notebook subnets there are: known when planning, even before they exist. */
  public readonly notebookSubnetCount: number;
  /** Availability Zone of each notebook subnet, in the same order. */
  public readonly notebookSubnetZones: string[];

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id);
    const stack = TerraformStack.of(this);
    const vpcId = props.vpcId ?? "";
    const vpcCidr = props.vpcCidr ?? DEFAULT_VPC_CIDR;
    const zoneCount = props.availabilityZones ?? DEFAULT_AVAILABILITY_ZONES;
    const taskNetwork = props.taskNetwork ?? DEFAULT_TASK_NETWORK;
    const loadBalancerSubnetIds = props.loadBalancerSubnetIds ?? [];
    const notebookSubnetIds = props.notebookSubnetIds ?? [];

    const create = (this.createsVpc = isEmpty(vpcId));
    const privateTasks = equals(taskNetwork, "private");
    const createPrivate = and(create, privateTasks);
    this.assignPublicIp = not(privateTasks);
    const self = (attribute: string) => ref(`self.${attribute}`, stack);
    const name = (suffix: string) => ({ Name: `${props.name}-${suffix}` });

    // --- a new VPC -------------------------------------------------------------------------
    this.availabilityZoneNames = new DataAwsAvailabilityZones(this, "availability_zones", {
      count: countWhen(create, 1),
      state: "available",
      // Regular zones only: Local and Wavelength Zones have no load balancers or Fargate.
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
      lifecycle: {
        postcondition: [
          {
            condition: Op.gte(Fn.lengthOf(self("names")), zoneCount),
            errorMessage: `availability_zones is ${zoneCount}, but the region has fewer Availability Zones available: lower availability_zones.`,
          },
        ],
      },
    });
    const zoneNames = Token.asList(Fn.one(splat(this.availabilityZoneNames, "names")));

    this.vpc = new Vpc(this, "vpc", {
      count: countWhen(create, 1),
      cidrBlock: vpcCidr,
      // EFS mount targets are reached by DNS name.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: props.name },
    });
    const newVpcId = Token.asString(Fn.one(splat(this.vpc, "id")));
    this.internetGateway = new InternetGateway(this, "internet_gateway", { count: countWhen(create, 1), vpcId: newVpcId, tags: { Name: props.name } });

    const publicCount = TerraformCount.of(countWhen(create, zoneCount));
    this.publicSubnets = new Subnet(this, "public_subnet", {
      count: publicCount,
      vpcId: newVpcId,
      cidrBlock: Fn.cidrsubnet(vpcCidr, SUBNET_NEWBITS, publicCount.index),
      availabilityZone: Fn.element(zoneNames, publicCount.index),
      // Load balancers have their own addresses; a task gets a public IP only when asked for.
      mapPublicIpOnLaunch: false,
      tags: { Name: Fn.format("%s-public-%s", [props.name, Fn.element(zoneNames, publicCount.index)]) },
    });
    this.publicRouteTable = new RouteTable(this, "public_route_table", { count: countWhen(create, 1), vpcId: newVpcId, tags: name("public") });
    const publicRouteTableId = Token.asString(Fn.one(splat(this.publicRouteTable, "id")));
    this.publicDefaultRoute = new Route(this, "public_default_route", {
      count: countWhen(create, 1),
      routeTableId: publicRouteTableId,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: Token.asString(Fn.one(splat(this.internetGateway, "id"))),
    });
    const publicRoutes = TerraformCount.of(countWhen(create, zoneCount));
    this.publicSubnetRoutes = new RouteTableAssociation(this, "public_subnet_route", {
      count: publicRoutes,
      subnetId: Fn.element(splat(this.publicSubnets, "id"), publicRoutes.index),
      routeTableId: publicRouteTableId,
    });

    // Private tasks in a new VPC: a private subnet per zone, one NAT gateway for all (one
    // zone's NAT is a single point of failure for image pulls, at a third of the price of three).
    const privateCount = TerraformCount.of(countWhen(createPrivate, zoneCount));
    this.privateSubnets = new Subnet(this, "private_subnet", {
      count: privateCount,
      vpcId: newVpcId,
      cidrBlock: Fn.cidrsubnet(vpcCidr, SUBNET_NEWBITS, Token.asNumber(Op.add(PRIVATE_SUBNET_OFFSET, privateCount.index))),
      availabilityZone: Fn.element(zoneNames, privateCount.index),
      mapPublicIpOnLaunch: false,
      tags: { Name: Fn.format("%s-private-%s", [props.name, Fn.element(zoneNames, privateCount.index)]) },
    });
    this.natAddress = new Eip(this, "nat_address", {
      count: countWhen(createPrivate, 1),
      domain: "vpc",
      tags: name("nat"),
      dependsOn: [this.internetGateway],
    });
    this.natGateway = new NatGateway(this, "nat_gateway", {
      count: countWhen(createPrivate, 1),
      allocationId: Token.asString(Fn.one(splat(this.natAddress, "id"))),
      // In the first public subnet.
      subnetId: Token.asString(Fn.element(splat(this.publicSubnets, "id"), 0)),
      tags: { Name: props.name },
      dependsOn: [this.internetGateway],
    });
    this.privateRouteTable = new RouteTable(this, "private_route_table", { count: countWhen(createPrivate, 1), vpcId: newVpcId, tags: name("private") });
    const privateRouteTableId = Token.asString(Fn.one(splat(this.privateRouteTable, "id")));
    this.privateDefaultRoute = new Route(this, "private_default_route", {
      count: countWhen(createPrivate, 1),
      routeTableId: privateRouteTableId,
      destinationCidrBlock: "0.0.0.0/0",
      natGatewayId: Token.asString(Fn.one(splat(this.natGateway, "id"))),
    });
    const privateRoutes = TerraformCount.of(countWhen(createPrivate, zoneCount));
    this.privateSubnetRoutes = new RouteTableAssociation(this, "private_subnet_route", {
      count: privateRoutes,
      subnetId: Fn.element(splat(this.privateSubnets, "id"), privateRoutes.index),
      routeTableId: privateRouteTableId,
    });

    // --- an existing VPC: looked up and checked, never changed ----------------------------
    const existing = not(create);
    const lbSubnetCount = TerraformCount.of(countWhen(existing, lengthOf(loadBalancerSubnetIds)));
    this.existingLoadBalancerSubnets = new DataAwsSubnet(this, "load_balancer_subnet", {
      count: lbSubnetCount,
      id: Fn.element(loadBalancerSubnetIds, lbSubnetCount.index),
      lifecycle: {
        postcondition: [
          {
            condition: Op.eq(self("vpc_id"), vpcId),
            errorMessage: `load_balancer_subnet_ids must be subnets of vpc_id ${vpcId}, but \${self.id} is in \${self.vpc_id}.`,
          },
        ],
      },
    });
    const notebookSubnetCount = TerraformCount.of(countWhen(existing, lengthOf(notebookSubnetIds)));
    this.existingNotebookSubnets = new DataAwsSubnet(this, "notebook_subnet", {
      count: notebookSubnetCount,
      id: Fn.element(notebookSubnetIds, notebookSubnetCount.index),
      lifecycle: {
        postcondition: [
          {
            condition: Op.eq(self("vpc_id"), vpcId),
            errorMessage: `notebook_subnet_ids must be subnets of vpc_id ${vpcId}, but \${self.id} is in \${self.vpc_id}.`,
          },
        ],
      },
    });
    const lbZones = splat(this.existingLoadBalancerSubnets, "availability_zone");
    const notebookZones = splat(this.existingNotebookSubnets, "availability_zone");
    this.existingVpc = new DataAwsVpc(this, "existing_vpc", {
      count: countWhen(existing, 1),
      id: vpcId,
      lifecycle: {
        precondition: [
          {
            // An Application Load Balancer takes one subnet per zone, in two zones at least.
            condition: Op.and(Op.eq(Fn.lengthOf(Fn.distinct(lbZones)), Fn.lengthOf(lbZones)), Op.gte(Fn.lengthOf(lbZones), 2)),
            errorMessage: `load_balancer_subnet_ids must be in different Availability Zones, at least 2 (a load balancer takes one subnet per zone), got zones ${Fn.jsonencode(lbZones)}.`,
          },
          {
            // A load balancer sends nothing to targets in a zone it is not in: such a notebook never turns healthy.
            condition: Op.lt(Fn.lengthOf(Fn.setsubtract(notebookZones, lbZones)), 1), // (cdktf writes a literal 0 as undefined)
            errorMessage: `notebook_subnet_ids must be in Availability Zones of load_balancer_subnet_ids ${Fn.jsonencode(lbZones)} (a load balancer reaches no target in another zone), got zones ${Fn.jsonencode(notebookZones)}.`,
          },
        ],
      },
    });

    // --- what the rest of the platform uses: one of the two sides is empty ----------------
    this.vpcId = Token.asString(Fn.one(Fn.concat([splat(this.vpc, "id"), splat(this.existingVpc, "id")])));
    this.vpcCidrBlocks = Token.asList(
      Fn.concat([splat(this.vpc, "cidr_block"), Token.asList(ref(`flatten(${address(this.existingVpc)}[*].cidr_block_associations)[*].cidr_block`, stack))]),
    );
    this.loadBalancerSubnetIds = Token.asList(Fn.concat([splat(this.publicSubnets, "id"), splat(this.existingLoadBalancerSubnets, "id")]));
    const newPublicTasks = and(create, not(privateTasks));
    this.notebookSubnetIds = Token.asList(
      Fn.concat([splat(this.privateSubnets, "id"), listWhen(newPublicTasks, splat(this.publicSubnets, "id")), splat(this.existingNotebookSubnets, "id")]),
    );
    this.notebookSubnetZones = Token.asList(
      Fn.concat([
        splat(this.privateSubnets, "availability_zone"),
        listWhen(newPublicTasks, splat(this.publicSubnets, "availability_zone")),
        splat(this.existingNotebookSubnets, "availability_zone"),
      ]),
    );
    this.notebookSubnetCount = Token.asNumber(when(create, zoneCount, lengthOf(notebookSubnetIds)));
  }
}
