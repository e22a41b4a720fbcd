import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef } from "react";

/**
 * Reloads the route's data every `intervalMs` while the tab is visible (a tick is skipped while a
 * reload is in flight). Pages also carry a <noscript> refresh for readers without JavaScript.
 */
export function useAutoRefresh(intervalMs: number, enabled = true) {
  const revalidator = useRevalidator();
  const latest = useRef(revalidator);
  latest.current = revalidator;
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      const current = latest.current;
      if (document.visibilityState === "visible" && current.state === "idle") current.revalidate();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [enabled, intervalMs]);
}
