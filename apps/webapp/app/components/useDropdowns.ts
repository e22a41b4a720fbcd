import { useLocation } from "@remix-run/react";
import { useEffect } from "react";

/**
 * `<details data-dropdown>` menus (switcher, status filter) are plain HTML so they work without
 * JavaScript; with it they also close on a click outside, on Escape and after navigating.
 */
export function useDropdowns() {
  const location = useLocation();
  useEffect(() => {
    closeAll();
  }, [location.key]);
  useEffect(() => {
    const onPointerDown = (event: PointerEvent) => closeAll(event.target instanceof Node ? event.target : null);
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Escape") closeAll();
    };
    document.addEventListener("pointerdown", onPointerDown);
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
      document.removeEventListener("keydown", onKeyDown);
    };
  }, []);
}

function closeAll(except: Node | null = null) {
  for (const details of document.querySelectorAll<HTMLDetailsElement>("details[data-dropdown][open]")) {
    if (except && details.contains(except)) continue;
    details.open = false;
  }
}
