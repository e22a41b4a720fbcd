// Worker-thread entry: registers tsx (the task files and this package are TypeScript), then runs thread.ts.
import { register } from "tsx/esm/api";

register();
await import("./thread.ts");
