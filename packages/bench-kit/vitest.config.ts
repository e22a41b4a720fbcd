import { runplaneProject } from "../../vitest.shared";

export default runplaneProject("@runplane/bench-kit");
