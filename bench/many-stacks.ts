import { App } from "cdktf";
import { NotebookStack } from "../stacks/notebook-stack";
import { skipTokenCreationStacks } from "../stacks/token-stacks";

// Bench app: BENCH_STACKS notebook stacks (one per user) in one synth, as main.ts synthesizes them.
skipTokenCreationStacks(process.env);
const app = new App();
const count = Number(process.env.BENCH_STACKS ?? "50");
for (let i = 1; i <= count; i++) {
  const user = `user${String(i).padStart(3, "0")}`;
  new NotebookStack(app, { id: `notebook-${user}`, environment: "bench", user, backend: { type: "local", path: `/tmp/${user}.tfstate` } });
}
app.synth();
