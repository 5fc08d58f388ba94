import { NOTEBOOK_PORT } from "../notebook/constants";
import { WORK_DIR } from "../notebook/persistent-home";

/**
 * The images a notebook runs when its vars file names none (`image` unset), per accelerator.
 *
 * - Fargate: the Jupyter Docker Stacks' datascience-notebook, with `jupyter_docker_tag`.
 * - NVIDIA: the Jupyter Docker Stacks' CUDA build of pytorch-notebook: the same tags with the
 *   `cuda12-` prefix (https://jupyter-docker-stacks.readthedocs.io, "CUDA enabled variants").
 * - Neuron: no public image has both Jupyter and the Neuron SDK; AWS's Neuron Deep Learning
 *   Container for PyTorch (github.com/aws-neuron/deep-learning-containers) has the SDK, and
 *   NEURON_START_COMMAND adds JupyterLab at start. It is pinned: `jupyter_docker_tag` does
 *   not apply to it.
 */
export const DEFAULT_IMAGE = "quay.io/jupyter/datascience-notebook";
export const NVIDIA_IMAGE = "quay.io/jupyter/pytorch-notebook";
export const NVIDIA_TAG_PREFIX = "cuda12-";
export const NEURON_IMAGE = "public.ecr.aws/neuron/pytorch-training-neuronx";
export const NEURON_IMAGE_TAG = "2.5.1-neuronx-py310-sdk2.21.0-ubuntu22.04";

/**
 * The Neuron image's command: JupyterLab on the notebook port in the work directory (the EFS home's mount point), installed first
 * when the image lacks it (the notebook's subnets reach the internet: accelerated notebooks
 * need a NAT gateway). Jupyter Server reads the token from JUPYTER_TOKEN. The container runs
 * as the image's user, root, so Jupyter must be allowed to.
 *
 * Why the first line is `:` (nothing): the DLC's entrypoint (`bash -m start_with_right_hostname.sh`)
 * runs any command but "train" as `eval "$@"`, which joins ECS's `bash`, `-c` and this script
 * with spaces and parses the result again. So `bash -c` gets the first line only and every other
 * line runs in the entrypoint's own shell; written this way, the script does the same with that
 * entrypoint and without one. (With `set -e` first, `bash -c set -e` ran `set`, which printed
 * every variable, JUPYTER_TOKEN and NOTEBOOK_GIT_TOKEN included, into the notebook's log; and
 * `set -e` never applied.)
 *
 * Root and the EFS home: the access point makes every file there belong to uid 1000, and git
 * refuses to work in a repository that is not the user's own ("dubious ownership"); in this
 * one-user container every directory is safe.
 */
export const NEURON_START_SCRIPT = [
  ":",
  "set -e",
  "if ! command -v jupyter-lab >/dev/null 2>&1; then",
  "  echo '[neuron-notebook] installing JupyterLab' >&2",
  "  if ! python3 -m pip install --no-cache-dir --quiet 'jupyterlab>=4,<5'; then",
  "    echo '[neuron-notebook] could not install JupyterLab (pip failed): the notebook needs internet access, through a NAT gateway' >&2",
  "    exit 1",
  "  fi",
  "fi",
  "if command -v git >/dev/null 2>&1; then git config --global --replace-all safe.directory '*' || true; fi",
  `mkdir -p ${WORK_DIR}`,
  `exec jupyter-lab --ServerApp.ip=0.0.0.0 --ServerApp.port=${NOTEBOOK_PORT} --ServerApp.port_retries=0 --ServerApp.open_browser=False --ServerApp.root_dir=${WORK_DIR} --ServerApp.allow_root=True`,
].join("\n");
export const NEURON_START_COMMAND = ["bash", "-c", NEURON_START_SCRIPT];
