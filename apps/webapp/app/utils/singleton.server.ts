/**
 * Process-wide singletons keyed by name. They live on `globalThis`, so a module evaluated twice
 * (Vite dev reloads, or the server entry and the Remix build each holding a copy) still shares one.
 */
const registry: Map<string, unknown> = ((globalThis as Record<string, unknown>).__runplaneSingletons ??= new Map<
  string,
  unknown
>()) as Map<string, unknown>;

export function singleton<T>(name: string, create: () => T): T {
  if (!registry.has(name)) registry.set(name, create());
  return registry.get(name) as T;
}

export function setSingleton<T>(name: string, value: T): T {
  registry.set(name, value);
  return value;
}

export function getSingleton<T>(name: string): T | undefined {
  return registry.get(name) as T | undefined;
}

/** For tests and shutdown: forget a singleton so the next `singleton()` call builds a new one. */
export function clearSingleton(name: string): void {
  registry.delete(name);
}
