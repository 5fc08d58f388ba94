/** Port the Jupyter server listens on inside the container. */
export const NOTEBOOK_PORT = 8888;
/** Length of the random suffix every resource name of one notebook ends with. */
export const SUFFIX_LENGTH = 8;
/** Longest value of a load balancer's host-header condition: the notebook's hostname. */
export const MAX_HOSTNAME_LENGTH = 128;
/** Name of the notebook container in the task definition. */
export const CONTAINER_NAME = "notebook";
