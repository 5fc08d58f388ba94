"""Sets this notebook's ECS service to desired count 0, after an idle stop.

Called by start-notebook.sh. Cluster and service come from NOTEBOOK_ECS_CLUSTER and
NOTEBOOK_ECS_SERVICE; credentials from the task role (the only permission it needs is
ecs:UpdateService on this service). AWS_ENDPOINT_URL_ECS, when set, points the call
elsewhere (honoured here explicitly, since boto3 before 1.28.57 ignores it).
"""
import os
import sys

import boto3


def main():
    cluster = os.environ.get("NOTEBOOK_ECS_CLUSTER", "")
    service = os.environ.get("NOTEBOOK_ECS_SERVICE", "")
    if not cluster or not service:
        print("[scale-down] NOTEBOOK_ECS_CLUSTER and NOTEBOOK_ECS_SERVICE must be set", file=sys.stderr)
        return 2
    endpoint = os.environ.get("AWS_ENDPOINT_URL_ECS") or os.environ.get("AWS_ENDPOINT_URL") or None
    # boto3 reads AWS_DEFAULT_REGION only; the cluster's ARN names the region as well.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and cluster.startswith("arn:"):
        region = cluster.split(":")[3]
    try:
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=region or None)
        ecs.update_service(cluster=cluster, service=service, desiredCount=0)
    except Exception as err:  # any failure: report it in one line, the caller decides
        print(f"[scale-down] update_service failed for {service} in {cluster}: {err}", file=sys.stderr)
        return 1
    print(f"[scale-down] service {service} in {cluster} set to desired count 0", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
