import { runplaneProject } from "../../vitest.shared";

export default runplaneProject("@runplane/worker");
