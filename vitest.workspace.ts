// Each package with tests is a project; vitest runs them in parallel, bounded by the pool settings.
export default ["packages/*", "internal-packages/*", "apps/*"];
