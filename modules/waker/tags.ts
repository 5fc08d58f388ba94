/**
 * The tags the waker (waker/handler.ts) reads on a notebook's listener rule and service,
 * which the notebook module sets: how it finds the service, target group and token of a
 * hostname, and the rule of a stopped service. Besides the default Project, Environment and
 * Owner tags, which it checks.
 */
export const WAKER_TAGS = {
  /** On the rule: the notebook's cluster (ARN). */
  cluster: "NotebookCluster",
  /** On the rule: the notebook's ECS service (name). */
  service: "NotebookService",
  /** On the rule: the notebook's own target group (ARN), which the rule forwards to while it runs. */
  targetGroup: "NotebookTargetGroup",
  /** On the rule: the secret that holds the notebook's token (ARN). */
  tokenSecret: "NotebookTokenSecret",
  /** On the service: its listener rule (ARN). */
  listenerRule: "NotebookListenerRule",
} as const;
